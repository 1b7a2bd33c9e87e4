// mek's own version, from package.json: printed by --version and written into exported models.
import { readFileSync } from 'node:fs';

let version: string | null = null;

export function mekVersion(): string {
  version ??= String(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version);
  return version;
}
