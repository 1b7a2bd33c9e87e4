// `mek pretrain --config F [--set k=v]... [--name N] [--resume PATH]`: self-supervised
// pretraining of the backbone by rotation prediction (src/pretrain/), a run folder like mek
// train's whose last.json is a start point for `mek train --set model.init=...`.
import { join } from 'node:path';
import { runPretraining, type PretrainSummary } from '../pretrain/run.ts';
import type { MekCommand } from './program.ts';
import { runFromArgs, runOptions } from './train.ts';

export const pretrainCommand: MekCommand = {
  command: 'pretrain',
  describe: 'Pretrain the backbone on the training images by rotation prediction (labels unused): a model.init for train',
  builder: (y) =>
    runOptions(y, 'pretrain.rotations=random')
      .example('$0 pretrain --config configs/pretrain-demo.yaml', 'rotation pretraining of the demo model on the synthetic faces')
      .example('$0 train --config configs/demo.yaml --set model.init=checkpoints/pretrain-demo/last.json', 'then fine-tune from it'),
  handler: (argv) => runFromArgs(argv, runPretraining, outcome),
};

/** The rotation accuracy last measured, and how to fine-tune from the run. */
function outcome(s: PretrainSummary): string {
  const where = s.evalSplit === 'val' ? 'validation split' : 'training images';
  const accuracy = s.last ? `rotation accuracy ${(100 * (s.last.metrics['accuracy'] as number)).toFixed(2)}% on the ${where} at step ${s.last.step}` : 'no evaluation yet';
  return `${accuracy}; fine-tune with mek train --set model.init=${join(s.runDir, 'last.json')}`;
}
