// The CLI contract: help and version, and exit codes (0 ok, 2 usage / config / data /
// checkpoint as one line on stderr, 1 anything else). The error paths run in process with
// throw-away commands; the rest spawns the real `node bin/mek.js` (about 1 s each, so the
// spawns run concurrently). `mek doctor` has its own file.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BackendError, UsageError } from '../../src/errors.ts';
import type { MekCommand } from '../../src/commands/program.ts';
import { REPO_ROOT, runCommands, spawnMek as mek } from '../helpers/cli.ts';

/** Runs the program in process with `commands`; returns the exit code and what went to stderr. */
async function runInProcess(args: string[], commands: MekCommand[]): Promise<{ code: number; stderr: string }> {
  const { code, stderr } = await runCommands(args, commands);
  return { code, stderr };
}

function throwing(error: () => unknown): MekCommand {
  return {
    command: 'boom',
    describe: 'fails on purpose',
    handler: async () => {
      throw error();
    },
  };
}

const noStack = /^\s+at /m;

describe('exit codes and error lines (in process)', () => {
  it('a command that returns exits 0 and reads the global options', async () => {
    let seen: unknown;
    const ok: MekCommand = { command: 'ok', describe: 'succeeds', handler: (argv) => void (seen = argv.backend) };
    expect(await runInProcess(['ok', '--backend', 'cpu'], [ok])).toEqual({ code: 0, stderr: '' });
    expect(seen).toBe('cpu');
  });

  it('UsageError exits 2 with its message as one line', async () => {
    const r = await runInProcess(['boom'], [throwing(() => new UsageError('config: unknown key train.bacth_size'))]);
    expect(r).toEqual({ code: 2, stderr: 'mek: config: unknown key train.bacth_size\n' });
  });

  it('BackendError exits 2', async () => {
    const r = await runInProcess(['boom'], [throwing(() => new BackendError("backend 'tensorflow' cannot be loaded"))]);
    expect(r).toEqual({ code: 2, stderr: "mek: backend 'tensorflow' cannot be loaded\n" });
  });

  it('a UsageError thrown synchronously is handled the same way', async () => {
    const sync: MekCommand = {
      command: 'boom',
      describe: 'fails at once',
      handler: () => {
        throw new UsageError('bad');
      },
    };
    expect(await runInProcess(['boom'], [sync])).toEqual({ code: 2, stderr: 'mek: bad\n' });
  });

  it('any other error exits 1 with one line that points at --debug', async () => {
    const r = await runInProcess(['boom'], [throwing(() => new TypeError('x is undefined\nmore detail'))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('mek: TypeError: x is undefined more detail (run with --debug for the stack trace)\n');
  });

  it('--debug adds the stack trace', async () => {
    const r = await runInProcess(['boom', '--debug'], [throwing(() => new UsageError('bad'))]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^mek: UsageError: bad\n/);
    expect(r.stderr).toMatch(noStack);
  });

  it('bad usage exits 2 with one line', async () => {
    const commands = [throwing(() => new Error('not reached'))];
    for (const args of [[], ['nope'], ['boom', '--nope'], ['--backend', 'gpu', 'boom']]) {
      const r = await runInProcess(args, commands);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^mek: [^\n]+ See 'mek --help'\.\n$/);
    }
  });
});

describe.concurrent('node bin/mek.js', () => {
  it('--help lists the commands and global options', async () => {
    const r = await mek('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/mek doctor/);
    expect(r.stdout).toMatch(/--backend.*\n.*"auto", "tensorflow", "wasm", "cpu"/);
    expect(r.stdout).toMatch(/--debug/);
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    const r = await mek('--version');
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  it('an unknown command exits 2 with one line and no stack', async () => {
    const r = await mek('frobnicate');
    expect(r).toEqual({ code: 2, stdout: '', stderr: "mek: Unknown command: frobnicate. See 'mek --help'.\n" });
  });

  it('an unknown option exits 2 with one line and no stack', async () => {
    const r = await mek('doctor', '--frobnicate');
    expect(r).toEqual({ code: 2, stdout: '', stderr: "mek: Unknown argument: frobnicate. See 'mek --help'.\n" });
    expect(r.stderr).not.toMatch(noStack);
  });
});
