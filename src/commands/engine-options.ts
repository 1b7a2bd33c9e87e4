// The options by which `mek eval` and `mek predict` choose where the model runs: mek's tfjs
// graph or ONNX Runtime (src/infer/select.ts), and ONNX Runtime's execution provider.
import type { OnnxDevice } from '../infer/onnx.ts';
import { ENGINE_CHOICES, type EngineChoice } from '../infer/select.ts';

export interface EngineArgs {
  engine: EngineChoice;
  device: OnnxDevice;
}

/** For yargs' `.options()`. */
export const ENGINE_OPTIONS = {
  engine: { choices: ENGINE_CHOICES, default: 'auto' as EngineChoice, describe: 'auto: ONNX Runtime when it loads (the model exported to a cached .onnx beside the checkpoint), else tfjs' },
  device: { choices: ['cpu', 'cuda'] as const, default: 'cpu' as OnnxDevice, describe: 'ONNX Runtime execution provider; cuda needs its CUDA provider installed (README "GPU setup")' },
};
