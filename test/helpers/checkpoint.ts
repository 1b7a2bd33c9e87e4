// A small checkpoint of a store, saved the way a run saves one: for tests that need a file to
// point commands at.
import { defaultConfig } from '../../src/config/load.ts';
import { saveCheckpoint, type SaveOptions } from '../../src/io/checkpoint/save.ts';
import type { ParamStore } from '../../src/model/params.ts';

/** `<dir>/best.json` of `store` (swin_tiny_test's 56 px input), RAF-DB's class names. */
export function saveTestCheckpoint(dir: string, store: ParamStore, extra: Partial<SaveOptions> = {}): Promise<string> {
  return saveCheckpoint(dir, 'best', {
    store,
    classes: defaultConfig().data.classes,
    preprocessing: { imageSize: 56, mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], interpolation: 'bilinear' },
    step: 0,
    metrics: {},
    ...extra,
  });
}
