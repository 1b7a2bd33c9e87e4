// What a user watches during training: cli-progress bars on a terminal, plain log lines at a
// set interval otherwise (CI logs, files). metrics.jsonl is written separately, always.
import cliProgress from 'cli-progress';

export interface StepStatus {
  step: number;
  total: number;
  epoch: number;
  loss: number;
  cls: number;
  rac: number | null;
  lr: number;
  samplesPerSecond: number;
}

export interface ProgressReporter {
  /** After a logged step. */
  step(s: StepStatus): void;
  evalStart(total: number): void;
  evalProgress(done: number): void;
  evalEnd(): void;
  /** A line that must not be overwritten by a bar. */
  line(text: string): void;
  stop(): void;
}

function fmt(x: number, digits = 4): string {
  return Number.isFinite(x) ? x.toFixed(digits) : String(x);
}

function describeStep(s: StepStatus): string {
  const rac = s.rac === null ? '' : ` rac ${fmt(s.rac)}`;
  return `loss ${fmt(s.loss)} (cls ${fmt(s.cls)}${rac}) lr ${s.lr.toExponential(2)} ${s.samplesPerSecond.toFixed(1)} samples/s`;
}

/** Plain lines: one per logged step, one per evaluation. */
export function lineReporter(write: (line: string) => void): ProgressReporter {
  return {
    step: (s) => write(`step ${s.step}/${s.total} epoch ${s.epoch} ${describeStep(s)}`),
    evalStart: (total) => write(`evaluating on ${total} images...`),
    evalProgress: () => {},
    evalEnd: () => {},
    line: write,
    stop: () => {},
  };
}

/** Two bars on a terminal: training (step/total, epoch, loss terms, lr, speed, ETA) and evaluation. */
export function barReporter(stream: NodeJS.WriteStream): ProgressReporter {
  const bars = new cliProgress.MultiBar(
    {
      stream,
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
      format: '{name} |{bar}| {value}/{total} {detail} ETA {eta_formatted}',
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  let trainBar: cliProgress.SingleBar | null = null;
  let evalBar: cliProgress.SingleBar | null = null;
  return {
    step: (s) => {
      const detail = `ep ${s.epoch} ${describeStep(s)}`;
      if (!trainBar) trainBar = bars.create(s.total, s.step, { name: 'train', detail });
      trainBar.update(s.step, { detail });
    },
    evalStart: (total) => {
      evalBar = bars.create(total, 0, { name: 'eval ', detail: '' });
    },
    evalProgress: (done) => evalBar?.update(done),
    evalEnd: () => {
      if (evalBar) bars.remove(evalBar);
      evalBar = null;
    },
    line: (text) => bars.log(text + '\n'),
    stop: () => bars.stop(),
  };
}
