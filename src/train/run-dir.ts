// Where a run's files go: a fresh folder under train.out_dir for a new run, the folder of its
// last.json for a resumed one; openRun sets the folder up for mek train and mek pretrain alike.
import { closeSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { configToYaml } from '../config/load.ts';
import type { LoaderPosition } from '../data/loader.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { MetricsLog } from './metrics-log.ts';
import type { Config } from '../config/schema.ts';
import { CheckpointError } from '../errors.ts';
import { readCheckpoint, type Checkpoint } from '../io/checkpoint/read.ts';

/**
 * checkpoints/<name>, or <name>-2, -3, ... when that already holds a run: never overwrite one,
 * also when two runs of the same name start at once. A folder is claimed by creating its
 * config.yaml exclusively (the run writes the real one over it at once), so of two processes
 * that find the same empty folder only one gets it.
 */
export function newRunDir(config: Config, configPath?: string): string {
  const name = config.train.name || (configPath ? basename(configPath, extname(configPath)) : 'run');
  mkdirSync(config.train.out_dir, { recursive: true });
  for (let i = 1; ; i++) {
    const dir = join(config.train.out_dir, i === 1 ? name : `${name}-${i}`);
    if (claimRunDir(dir)) return dir;
  }
}

function claimRunDir(dir: string): boolean {
  try {
    mkdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    if (readdirSync(dir).length > 0) return false;
  }
  try {
    closeSync(openSync(join(dir, 'config.yaml'), 'wx'));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** A run's folder, set up: its config.yaml written, its metrics log open, where it starts. */
export interface OpenedRun {
  runDir: string;
  /** last.json of the run being continued; null for a new run. */
  resumeFrom: Checkpoint | null;
  log: MetricsLog;
  /** The first step to take and where the training stream stands before it. */
  start: { step: number; position: LoaderPosition };
}

/** A new run folder, or on `resume` the folder of that run (which must be `command`'s). */
export async function openRun(config: Config, command: 'train' | 'pretrain', configPath?: string, resume?: string): Promise<OpenedRun> {
  const resumeFrom = resume ? await readResumePoint(resume, command) : null;
  const runDir = resume ? dirname(resumePath(resume)) : newRunDir(config, configPath);
  await writeFileAtomic(join(runDir, 'config.yaml'), configToYaml(config));
  const log = await MetricsLog.open(runDir, resumeFrom ? resumeFrom.meta.step : null);
  const step = resumeFrom ? resumeFrom.meta.step : 0;
  return { runDir, resumeFrom, log, start: { step, position: resumeFrom?.meta.training?.loader ?? { epoch: 0, index: 0 } } };
}

/** `--resume` takes a run folder or its last.json. */
export function resumePath(resume: string): string {
  return extname(resume) === '.json' ? resume : join(resume, 'last.json');
}

/** The last.json `--resume` names, refused when it is the other command's run (mek train's or mek pretrain's). */
export async function readResumePoint(resume: string, command: 'train' | 'pretrain'): Promise<Checkpoint> {
  const path = resumePath(resume);
  const checkpoint = await readCheckpoint(path);
  const kind = checkpoint.meta.pretext ? 'pretrain' : 'train';
  if (kind !== command) {
    throw new CheckpointError(`${path}: is a mek ${kind} run, not a mek ${command} run; continue it with mek ${kind} --resume${kind === 'pretrain' ? ', or start training from it with --set model.init=' + path : ''}`);
  }
  return checkpoint;
}
