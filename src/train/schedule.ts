// timm's CosineLRScheduler as the reference steps it: per iteration, a linear warm-up from
// warmupLrInit, then a cosine whose phase counts from step 0 (not from the end of warm-up),
// reaching lrMin at totalSteps and staying there.
import type { Config } from '../config/schema.ts';

export interface CosineSchedule {
  baseLr: number;
  warmupLrInit: number;
  lrMin: number;
  warmupSteps: number;
  totalSteps: number;
}

/** Learning rate used by optimizer step `step` (0-based). */
export function learningRate(s: CosineSchedule, step: number): number {
  if (step < s.warmupSteps) {
    return s.warmupLrInit + (step * (s.baseLr - s.warmupLrInit)) / s.warmupSteps;
  }
  if (step >= s.totalSteps) return s.lrMin;
  return s.lrMin + 0.5 * (s.baseLr - s.lrMin) * (1 + Math.cos((Math.PI * step) / s.totalSteps));
}

/**
 * The reference's recipe scaled to a batch size: base 5e-4, warm-up start 5e-7 and floor 5e-6,
 * each times batch / 512.
 */
export function referenceSchedule(batchSize: number, totalSteps: number, warmupSteps: number): CosineSchedule {
  const scale = batchSize / 512;
  return { baseLr: 5e-4 * scale, warmupLrInit: 5e-7 * scale, lrMin: 5e-6 * scale, warmupSteps, totalSteps };
}

/**
 * The config's schedule: optim.lr, schedule.warmup_lr and schedule.min_lr, each scaled by
 * train.batch_size / optim.lr_batch (unscaled at lr_batch 0), over train.steps.
 */
export function scheduleFromConfig(config: Config): CosineSchedule {
  const scale = config.optim.lr_batch > 0 ? config.train.batch_size / config.optim.lr_batch : 1;
  return {
    baseLr: config.optim.lr * scale,
    warmupLrInit: config.schedule.warmup_lr * scale,
    lrMin: config.schedule.min_lr * scale,
    warmupSteps: config.schedule.warmup_steps,
    totalSteps: config.train.steps,
  };
}
