// Where a run's files go: a fresh folder under train.out_dir for a new run, the folder of its
// last.json for a resumed one.
import { closeSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import type { Config } from '../config/schema.ts';

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

/** `--resume` takes a run folder or its last.json. */
export function resumePath(resume: string): string {
  return extname(resume) === '.json' ? resume : join(resume, 'last.json');
}
