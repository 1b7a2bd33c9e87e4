// Checking a checkpoint JSON before anything trusts it: every field of format.ts, the
// architecture buildable, the manifests (manifest.ts) exactly the entries that architecture
// stores. The writer runs the same checks on what it is about to write.
import { INTERPOLATIONS, type Interpolation } from '../../data/resize.ts';
import { classPrior } from '../../mek/prior.ts';
import { storedSpecs, type ParamSpec } from '../../model/params.ts';
import { variantProblem, type SwinVariant } from '../../model/variants.ts';
import { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type CheckpointMeta } from './format.ts';
import { isCount, isRecord } from './guards.ts';
import { checkStoredArrays } from './manifest.ts';
import { fail, show, type Problem } from './problem.ts';

/** `doc` as a CheckpointMeta, or a CheckpointError naming `file` and the first problem found. */
export function checkMeta(doc: unknown, file: string): CheckpointMeta {
  // Declared with its type so that TypeScript narrows after each `problem(...)`.
  const problem: Problem = (text) => fail(file, text);
  if (!isRecord(doc) || doc['format'] !== CHECKPOINT_FORMAT) problem(`is not a mek checkpoint (no "format": "${CHECKPOINT_FORMAT}")`);
  if (doc['version'] !== CHECKPOINT_VERSION) {
    problem(`has unsupported checkpoint version ${show(doc['version'])} (this mek reads version ${CHECKPOINT_VERSION})`);
  }
  if (typeof doc['createdAt'] !== 'string') problem('lacks "createdAt"');
  if (!isCount(doc['step'])) problem(`"step" must be a whole number >= 0, not ${show(doc['step'])}`);
  const architecture = checkArchitecture(doc['architecture'], problem);
  checkClasses(doc['classes'], architecture, problem);
  checkPreprocessing(doc['preprocessing'], architecture, problem);

  if (!isRecord(doc['metrics'])) problem('"metrics" must be an object');
  if ('config' in doc && !isRecord(doc['config'])) problem('"config" must be an object');
  if ('prior' in doc) checkPrior(doc['prior'], architecture.numClasses, problem);
  if ('selection' in doc) checkSelection(doc['selection'], problem);
  if ('posthoc' in doc) checkPosthoc(doc['posthoc'], problem);
  if ('pretext' in doc && doc['pretext'] !== 'rotation') problem(`"pretext" must be "rotation", not ${show(doc['pretext'])}`);

  const specs = storedSpecs(architecture);
  checkStoredArrays(doc, 'weights', specs, problem);
  if ('training' in doc) checkTraining(doc['training'], specs, problem);
  return doc as unknown as CheckpointMeta;
}

function checkClasses(classes: unknown, architecture: SwinVariant, problem: Problem): void {
  if (!Array.isArray(classes) || !classes.every((c) => typeof c === 'string')) problem('"classes" must be a list of names');
  if (classes.length !== architecture.numClasses) {
    problem(`"classes" has ${classes.length} names but the architecture has ${architecture.numClasses} classes`);
  }
}

function checkPreprocessing(p: unknown, architecture: SwinVariant, problem: Problem): void {
  if (!isRecord(p)) problem('lacks "preprocessing"');
  if (p['imageSize'] !== architecture.imgSize) {
    problem(`preprocessing.imageSize ${show(p['imageSize'])} differs from the architecture's input size ${architecture.imgSize}`);
  }
  for (const key of ['mean', 'std']) {
    const list = p[key];
    if (!Array.isArray(list) || list.length !== architecture.inChans || !list.every((x) => Number.isFinite(x))) {
      problem(`preprocessing.${key} must be ${architecture.inChans} numbers, not ${show(list)}`);
    }
  }
  if (!(p['std'] as number[]).every((x) => x > 0)) problem('preprocessing.std must be positive');
  if (!INTERPOLATIONS.includes(p['interpolation'] as Interpolation)) {
    problem(`preprocessing.interpolation must be one of ${INTERPOLATIONS.join(', ')}, not ${show(p['interpolation'])}`);
  }
}

function checkSelection(sel: unknown, problem: Problem): void {
  if (!isRecord(sel) || (sel['split'] !== 'val' && sel['split'] !== 'test') || typeof sel['metric'] !== 'string') {
    problem(`"selection" must be {"split": "val" | "test", "metric": name}, not ${show(sel)}`);
  }
}

function checkPosthoc(ph: unknown, problem: Problem): void {
  const fraction = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
  if (!isRecord(ph) || !(typeof ph['tau'] === 'number' && ph['tau'] >= 0) || ph['split'] !== 'val' || !fraction(ph['meanClass']) || !fraction(ph['meanClassRaw'])) {
    problem(`"posthoc" must be {"tau": >= 0, "split": "val", "meanClass", "meanClassRaw"}, not ${show(ph)}`);
  }
}

/** The state a resumed run continues from: optimizer moments (against `specs`), rng, loader position. */
function checkTraining(training: unknown, specs: ParamSpec[], problem: Problem): void {
  if (!isRecord(training)) problem('"training" must be an object');
  if ('optimizer' in training) {
    const o = training['optimizer'];
    if (!isRecord(o)) problem('training.optimizer must be an object');
    if (!isCount(o['step'])) problem(`training.optimizer.step must be a whole number >= 0, not ${show(o['step'])}`);
    const moments = specs
      .filter((s) => s.kind === 'param')
      .flatMap((s) => [
        { name: `${s.name}/m`, shape: s.shape },
        { name: `${s.name}/v`, shape: s.shape },
      ]);
    checkStoredArrays(o, 'optimizer', moments, problem);
  }
  if ('rngState' in training) {
    const r = training['rngState'];
    const words = Array.isArray(r) && r.length === 4 && r.every((w) => Number.isInteger(w) && w >= 0 && w < 2 ** 32);
    if (!words || (r as number[]).every((w) => w === 0)) problem(`training.rngState must be 4 unsigned 32-bit words, not all zero (got ${show(r)})`);
  }
  if ('loader' in training) {
    const l = training['loader'];
    if (!isRecord(l) || !isCount(l['epoch']) || !isCount(l['index'])) problem(`training.loader must be {epoch, index}, not ${show(l)}`);
  }
  if ('resume' in training && !isRecord(training['resume'])) problem('training.resume must be an object');
}

/** A stored prior must be the one classPrior derives from its counts and sampler. */
function checkPrior(p: unknown, numClasses: number, problem: Problem): void {
  if (!isRecord(p) || !Array.isArray(p['counts']) || p['counts'].length !== numClasses || !p['counts'].every((n) => Number.isInteger(n) && n > 0)) {
    problem(`prior.counts must be ${numClasses} positive whole numbers, not ${show(isRecord(p) ? p['counts'] : p)}`);
  }
  if (p['sampler'] !== 'shuffle' && p['sampler'] !== 'balanced') problem(`prior.sampler must be 'shuffle' or 'balanced', not ${show(p['sampler'])}`);
  const expected = classPrior(p['counts'] as number[], p['sampler']).probabilities;
  const stored = p['probabilities'];
  if (!Array.isArray(stored) || stored.length !== numClasses || stored.some((v, i) => typeof v !== 'number' || Math.abs(v - expected[i]!) > 1e-9)) {
    problem(`prior.probabilities must be the class frequencies of prior.counts (uniform for the balanced sampler), not ${show(stored)}`);
  }
}

const positiveInt = (x: unknown) => Number.isInteger(x) && (x as number) > 0;
const positiveInts = (x: unknown) => Array.isArray(x) && x.every(positiveInt);
const isBoolean = (x: unknown) => typeof x === 'boolean';

// A Record over every key of SwinVariant: adding a field to the variant fails to compile here.
const ARCHITECTURE_FIELDS: Record<keyof SwinVariant, (x: unknown) => boolean> = {
  imgSize: positiveInt,
  patchSize: positiveInt,
  inChans: positiveInt,
  embedDim: positiveInt,
  depths: positiveInts,
  numHeads: positiveInts,
  windowSize: positiveInt,
  mlpRatio: (x) => typeof x === 'number' && x > 0,
  qkvBias: isBoolean,
  patchNorm: isBoolean,
  dropPathRate: (x) => typeof x === 'number' && x >= 0 && x <= 1,
  numClasses: positiveInt,
  embeddingSize: positiveInt,
};

function checkArchitecture(x: unknown, problem: Problem): SwinVariant {
  if (!isRecord(x)) return problem('lacks "architecture"');
  for (const [key, valid] of Object.entries(ARCHITECTURE_FIELDS)) {
    if (!(key in x)) problem(`architecture lacks "${key}"`);
    if (!valid(x[key])) problem(`architecture.${key} is invalid (${show(x[key])})`);
  }
  // An ignored field could change the model silently; version 1 knows exactly these.
  const unknown = Object.keys(x).filter((k) => !(k in ARCHITECTURE_FIELDS));
  if (unknown.length) problem(`architecture has unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  const variant = x as unknown as SwinVariant;
  const why = variantProblem(variant);
  if (why) problem(`architecture is not a buildable Swin: ${why}`);
  return variant;
}
