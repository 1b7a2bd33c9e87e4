// Reading a checkpoint (format.ts): its JSON, checked (validate.ts) before anything it names
// is opened, then each binary, read only up to the size its manifest records and checked
// against its sha256, then the values, which must be finite.
import { dirname, join } from 'node:path';
import { CheckpointError } from '../../errors.ts';
import { storedSpecs } from '../../model/params.ts';
import { firstNonFinite, nonFiniteMessage } from '../finite.ts';
import { MiB, readRegularFile } from '../read-file.ts';
import { sha256, unpack } from './arrays.ts';
import type { CheckpointMeta, OptimizerState, StoredArrays } from './format.ts';
import { fail, ioProblem } from './problem.ts';
import { checkMeta } from './validate.ts';

export interface Checkpoint {
  meta: CheckpointMeta;
  /** Every stored entry of the architecture, in spec order. */
  values: Map<string, Float32Array>;
  optimizer?: OptimizerState;
}

/** A checkpoint JSON holds metadata and a config, never megabytes. */
const MAX_JSON_BYTES = 64 * MiB;

/** Reads and checks a checkpoint: its JSON, weights and (when present) optimizer state. */
export async function readCheckpoint(jsonPath: string): Promise<Checkpoint> {
  const meta = await readCheckpointMeta(jsonPath);
  const specs = storedSpecs(meta.architecture);
  const arrays = await readArrays(jsonPath, meta, 'weights');
  const values = new Map(specs.map((s) => [s.name, arrays.get(s.name)!]));
  const bad = firstNonFinite(values);
  if (bad) fail(jsonPath, nonFiniteMessage(bad));
  const optimizerSection = meta.training?.optimizer;
  if (!optimizerSection) return { meta, values };
  const moments = await readArrays(jsonPath, optimizerSection, 'optimizer');
  const trained = specs.filter((s) => s.kind === 'param');
  return {
    meta,
    values,
    optimizer: {
      step: optimizerSection.step,
      m: trained.map((s) => moments.get(`${s.name}/m`)!),
      v: trained.map((s) => moments.get(`${s.name}/v`)!),
    },
  };
}

/** Reads and checks a checkpoint's JSON alone (manifests included), without its binaries. */
export async function readCheckpointMeta(jsonPath: string): Promise<CheckpointMeta> {
  let text: string;
  try {
    text = (await readRegularFile(jsonPath, { maxBytes: MAX_JSON_BYTES, what: 'checkpoint JSON' }, (p) => fail(jsonPath, p))).toString('utf8');
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    fail(jsonPath, ioProblem(err));
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    fail(jsonPath, `is not JSON (${(err as Error).message})`);
  }
  return checkMeta(doc, jsonPath);
}

async function readArrays(jsonPath: string, stored: StoredArrays, what: string): Promise<Map<string, Float32Array>> {
  const group = stored.weightsManifest[0]!;
  const file = group.paths[0]!;
  let bytes: Buffer;
  try {
    // The manifest says how many bytes to expect: nothing else (a link to /dev/zero, a FIFO, a
    // longer file) is read.
    const limits = { maxBytes: stored.weightsBytes, expectedBytes: stored.weightsBytes, what: `${what} file` };
    bytes = await readRegularFile(join(dirname(jsonPath), file), limits, (p) => fail(jsonPath, `${what} file ${file} ${p}`));
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    fail(jsonPath, `${what} file ${file} ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'is missing' : ioProblem(err)}`);
  }
  const digest = sha256(bytes);
  if (digest !== stored.weightsSha256) {
    fail(jsonPath, `${what} file ${file} fails its checksum (sha256 ${digest.slice(0, 16)}..., recorded ${stored.weightsSha256.slice(0, 16)}...)`);
  }
  return unpack(bytes, group.weights);
}
