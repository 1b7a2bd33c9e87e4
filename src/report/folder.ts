// The report folder. Writing a report never damages what is there: a folder that is not a mek
// report is refused, and a report written again replaces the old one only at the end (new
// strips in strips.new/, swapped in just before index.html is replaced atomically), so a run
// that fails half-way leaves the previous report whole.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../errors.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import { REPORT_MARKER } from './page.ts';

export const STRIPS = 'strips';
const NEW_STRIPS = 'strips.new';
const OLD_STRIPS = 'strips.old';
const INDEX = 'index.html';

function isMekReport(dir: string): boolean {
  const index = join(dir, INDEX);
  return existsSync(index) && readFileSync(index, 'utf8').slice(0, 400).includes(REPORT_MARKER);
}

export class ReportFolder {
  private bytes = 0;

  private constructor(readonly dir: string) {}

  /** Checks `dir` (new, empty, or an earlier mek report) and makes room for new strips. */
  static open(dir: string, option = '--report'): ReportFolder {
    if (existsSync(dir)) {
      if (!statSync(dir).isDirectory()) throw new UsageError(`${option} ${dir}: a file of that name exists; give a folder`);
      if (readdirSync(dir).length > 0 && !isMekReport(dir)) {
        throw new UsageError(`${option} ${dir}: the folder has files and is not a mek report; give a new or empty folder`);
      }
    }
    rmSync(join(dir, NEW_STRIPS), { recursive: true, force: true });
    mkdirSync(join(dir, NEW_STRIPS), { recursive: true });
    return new ReportFolder(dir);
  }

  /** The page's path to strip `id`. */
  static stripPath(id: number): string {
    return `${STRIPS}/${String(id).padStart(6, '0')}.jpg`;
  }

  writeStrip(id: number, jpeg: Buffer): void {
    writeFileSync(join(this.dir, NEW_STRIPS, `${String(id).padStart(6, '0')}.jpg`), jpeg);
    this.bytes += jpeg.length;
  }

  /** Puts the new strips in place and writes the page; returns the report's size in bytes. */
  async commit(html: string): Promise<number> {
    const strips = join(this.dir, STRIPS);
    const old = join(this.dir, OLD_STRIPS);
    rmSync(old, { recursive: true, force: true });
    if (existsSync(strips)) renameSync(strips, old);
    renameSync(join(this.dir, NEW_STRIPS), strips);
    await writeFileAtomic(join(this.dir, INDEX), html);
    rmSync(old, { recursive: true, force: true });
    return this.bytes + Buffer.byteLength(html);
  }
}
