// The tiny long-tailed set and base config the ablation tests share: Fashion-MNIST's ten
// classes from synthetic IDX files (6 training images of the first class down to 2 of the
// last), and a micro Swin (28 px, 7x7 attention maps) trained for a few steps.
import { join } from 'node:path';
import { FASHION_MNIST_CLASSES, LONGTAIL_IMAGE_DIR, writeLongTail } from '../../src/data/longtail.ts';
import { LABEL_FILE } from '../../src/data/synth.ts';
import { writeFakeIdx } from '../helpers/idx.ts';

/** Writes the set under `root`/lt and returns its folder. */
export async function writeTinyLongTail(root: string): Promise<string> {
  writeFakeIdx(join(root, 'idx'), { trainPerClass: 6, testPerClass: 3, size: 8 });
  const data = join(root, 'lt');
  await writeLongTail({ from: join(root, 'idx'), out: data, ratio: 3, seed: 0 });
  return data;
}

/** The base config as --set values, the ablations under `root`/runs. */
export function tinySets(root: string, data: string, extra: string[] = []): string[] {
  return [
    'model.variant=swin_tiny_test', 'model.img_size=28', 'model.patch_size=2', 'model.embed_dim=8', 'model.depths=[2,2]',
    'model.num_heads=[1,2]', 'model.window_size=7',
    `data.root=${join(data, LONGTAIL_IMAGE_DIR)}`, `data.label_file=${join(data, LABEL_FILE)}`,
    `data.classes=${JSON.stringify(FASHION_MNIST_CLASSES)}`, 'data.workers=0',
    'augment.randaugment=', 'augment.erasing=0',
    'train.steps=3', 'train.batch_size=4', 'train.eval_every=0', 'train.log_every=1', 'train.seed=7',
    'optim.lr=1e-3', 'optim.lr_batch=0', 'schedule.warmup_steps=1', 'eval.batch_size=32',
    `train.out_dir=${join(root, 'runs')}`,
    ...extra,
  ];
}
