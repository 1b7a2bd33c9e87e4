// The memory plan on wasm: a model that cannot fit the 4 GiB heap is refused up front, with the
// estimate, instead of dying with "Aborted()" minutes later.
import { describe, expect, it } from 'vitest';
import type { BackendInfo } from '../../src/backend.ts';
import { UsageError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/load.ts';
import { variantFromConfig } from '../../src/config/variant.ts';
import { checkFitsWasm } from '../../src/train/memory.ts';

const wasm = { name: 'wasm' } as BackendInfo;
const tensorflow = { name: 'tensorflow' } as BackendInfo;

describe('checkFitsWasm', () => {
  it('lets the paper\'s Swin-T train and run on wasm', () => {
    const swinT = variantFromConfig(loadConfig(undefined, []));
    expect(() => checkFitsWasm(swinT, wasm, 'train')).not.toThrow();
    expect(() => checkFitsWasm(swinT, wasm, 'infer')).not.toThrow();
  });

  it('refuses a model past the heap with one line and the estimate, on wasm only', () => {
    const huge = variantFromConfig(loadConfig(undefined, ['model.embed_dim=768', 'model.num_heads=[24,48,96,192]']));
    const err = (() => {
      try {
        checkFitsWasm(huge, wasm, 'train');
      } catch (e) {
        return e as Error;
      }
      return null;
    })();
    expect(err).toBeInstanceOf(UsageError);
    expect(err!.message).toMatch(/^the model \(1,796,991,959 parameters, 112 px\) needs at least ~37\.1 GiB to train on wasm, whose heap is 4\.0 GiB: use a smaller model or the tensorflow backend/);
    expect(() => checkFitsWasm(huge, tensorflow, 'train')).not.toThrow();
    // inference needs the weights (7 GB here) and one chunk of activations
    expect(() => checkFitsWasm(huge, wasm, 'infer')).toThrow(/to run on wasm/);
  });
});
