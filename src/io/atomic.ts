// Crash-safe file writes. A file is written under a temporary name in its own folder, synced,
// then renamed over the target: rename within a folder is atomic on POSIX and NTFS, so a reader
// sees the old file or the new one, never a half-written one. A process that dies mid-write
// leaves only its temporary file, which `isAbandonedTemp` recognises for clean-up.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

const TEMP_SUFFIX = /\.tmp-(\d+)-[0-9a-f]{8}$/;

/** Writes `data` to `path` so that `path` is always either its old content or all of `data`. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(data);
      // Without the sync, a power cut after the rename can leave the new name on empty blocks.
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncFolder(dirname(path));
}

/** A rename is only durable once the folder holding it is synced (POSIX). */
async function syncFolder(dir: string): Promise<void> {
  // Windows cannot open a folder for fsync; NTFS journals the rename itself.
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Whether `file` (a name or path) is a temporary file of `writeFileAtomic` whose writer has
 * exited, so that removing it cannot disturb a write in progress.
 */
export function isAbandonedTemp(file: string): boolean {
  const match = TEMP_SUFFIX.exec(file);
  if (!match) return false;
  const pid = Number(match[1]);
  return pid !== process.pid && !processAlive(pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
