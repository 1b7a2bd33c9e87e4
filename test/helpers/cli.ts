// Running mek commands from tests, the three ways the tests need: in this process (fast, for one
// command's output and exit code), or as the real `node bin/mek.js` a user types, either
// awaited (so several can run at once) or synchronously (for a sequence of steps).
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, vi } from 'vitest';
import { runCli, type MekCommand } from '../../src/commands/program.ts';

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** The repository root: bin/mek.js is spawned from there, as a user runs it after cloning. */
export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

// The spawned CLI is killed after this long; a command that hangs fails its test, not the run.
const SPAWN_TIMEOUT_MS = 120_000;

/** Runs `args` against `commands` in this process, capturing what they print. */
export async function runCommands(args: string[], commands: MekCommand[]): Promise<CliOutcome> {
  let stdout = '';
  let stderr = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  try {
    const code = await runCli(args, commands, { stderr: (text) => (stderr += text) });
    return { code, stdout, stderr };
  } finally {
    spy.mockRestore();
  }
}

/** `node bin/mek.js ...args` from the repository root, awaited. */
export function spawnMek(...args: string[]): Promise<CliOutcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['bin/mek.js', ...args], { cwd: REPO_ROOT, maxBuffer: 1 << 24, timeout: SPAWN_TIMEOUT_MS }, (err, stdout, stderr) => {
      const code = err ? Number((err as { code?: number }).code ?? 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `node bin/mek.js ...args` from the repository root, synchronously. */
export function spawnMekSync(...args: string[]): CliOutcome {
  const r = spawnSync(process.execPath, ['bin/mek.js', ...args], { cwd: REPO_ROOT, encoding: 'utf8', maxBuffer: 1 << 24, timeout: SPAWN_TIMEOUT_MS });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Exit 2 with exactly one `mek:` line on stderr, matching `pattern`, and no stack trace: the
 * CLI's rule for bad usage, config, data and checkpoints. Other lines (notes, the engine) may
 * come before it.
 */
export function expectOneLineUsageError(r: CliOutcome, pattern: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('mek:'));
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/\n\s+at /);
}
