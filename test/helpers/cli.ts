// Runs mek commands in this process, as the CLI would, capturing what they print: faster than
// spawning bin/mek.js, for tests of one command's output and exit code.
import { vi } from 'vitest';
import { runCli, type MekCommand } from '../../src/commands/program.ts';

export async function runCommands(args: string[], commands: MekCommand[]): Promise<{ code: number; stdout: string; stderr: string }> {
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
