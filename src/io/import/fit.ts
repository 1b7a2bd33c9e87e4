// Matching file tensors (canonical names) to the entries of one architecture, with strict
// accounting: every entry the model holds must come from the file, except parts that may be
// initialised fresh (the unused face-embedding head always; the FER head when the weights
// are a starting point for training), and every file entry must find a place, except the
// buffers we recompute and an ImageNet classifier. Anything else is reported by name.
import { paramSpecs, storedSpecs } from '../../model/params.ts';
import type { SwinVariant } from '../../model/variants.ts';
import { isFloating } from '../tensor-file.ts';
import type { CanonicalWeights } from './names.ts';

/** 'use': the file must be a complete FER model; 'init': a starting point for training. */
export type Purpose = 'use' | 'init';

export class FitError extends Error {
  override name = 'FitError';
}

export interface FitResult {
  values: Map<string, Float32Array>;
  notes: string[];
}

const RECOMPUTED = /(relative_position_index|attn_mask|num_batches_tracked)$/;
const EMBEDDING_HEAD = /^encoder\.feature\./;
const FER_HEAD = /^(norm|head)\.(weight|bias)$/;
const CLASSIFIER = /^head\.(weight|bias)$/;
const NAMES_SHOWN = 4;

export function fitWeights(w: CanonicalWeights, variant: SwinVariant, purpose: Purpose, fresh: () => Map<string, Float32Array>): FitResult {
  const notes = [...w.notes];
  const specs = new Map(storedSpecs(variant).map((s) => [s.name, s]));
  const derived = new Set(paramSpecs(variant).filter((s) => s.kind === 'derived').map((s) => s.name));
  const values = new Map<string, Float32Array>();
  const unexpected: string[] = [];
  const misshaped: string[] = [];
  let recomputed = 0;
  let classesInFile: number | null = null;

  for (const [name, t] of w.tensors) {
    const spec = specs.get(name);
    if (!spec) {
      if (derived.has(name) || RECOMPUTED.test(name)) recomputed++;
      else unexpected.push(name);
      continue;
    }
    const sameShape = t.shape.length === spec.shape.length && t.shape.every((d, i) => d === spec.shape[i]);
    if (!sameShape && CLASSIFIER.test(name) && purpose === 'init') {
      classesInFile = t.shape[0]!;
      continue;
    }
    if (!sameShape) misshaped.push(`${name} (file [${t.shape.join(', ')}], model [${spec.shape.join(', ')}])`);
    else if (!isFloating(t.dtype)) misshaped.push(`${name} (${t.dtype}, not floating point)`);
    else values.set(name, t.values as Float32Array);
  }
  if (recomputed > 0) notes.push(`skipped ${recomputed} stored buffers that mek recomputes (relative_position_index, attn_mask, num_batches_tracked)`);
  if (w.classifier.size > 0) {
    const classes = w.classifier.values().next().value!.shape[0];
    notes.push(`skipped the ImageNet classifier (${[...w.classifier.keys()].join(', ')}; ${classes} classes): the FER model has its own head`);
  }

  const missing = [...specs.keys()].filter((n) => !values.has(n));
  const freshNames = missing.filter((n) => EMBEDDING_HEAD.test(n) || (purpose === 'init' && (FER_HEAD.test(n))));
  const stillMissing = missing.filter((n) => !freshNames.includes(n));
  const problems: string[] = [];
  if (stillMissing.length > 0) problems.push(`${stillMissing.length} missing: ${listed(stillMissing)}`);
  if (unexpected.length > 0) problems.push(`${unexpected.length} unexpected: ${listed(unexpected)}`);
  if (misshaped.length > 0) problems.push(`${misshaped.length} mis-shaped: ${listed(misshaped)}`);
  if (problems.length > 0) throw new FitError(`does not fit the model: ${problems.join('; ')}`);

  if (freshNames.length > 0) {
    const init = fresh();
    for (const n of freshNames) values.set(n, init.get(n)!);
    if (freshNames.some((n) => EMBEDDING_HEAD.test(n))) notes.push('the unused face-embedding head (encoder.feature.*) is not in the file: initialised fresh');
    const head = freshNames.filter((n) => FER_HEAD.test(n));
    if (classesInFile !== null) {
      notes.push(`the file's head has ${classesInFile} classes, the config ${variant.numClasses}: backbone loaded, head initialised fresh`);
    } else if (head.length > 0) {
      notes.push(`no FER head in the file (${head.join(', ')}): initialised fresh`);
    }
  }
  return { values, notes };
}

function listed(names: string[]): string {
  const shown = names.slice(0, NAMES_SHOWN).join(', ');
  return names.length > NAMES_SHOWN ? `${shown} and ${names.length - NAMES_SHOWN} more` : shown;
}
