// A headless Chromium for the tests that open mek's HTML pages: the system's browser (Debian's
// `chromium` package; .ci/run installs it), driven by puppeteer-core, which downloads nothing.
import { existsSync } from 'node:fs';
import puppeteer, { type Browser } from 'puppeteer-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The browser to use: $MEK_CHROMIUM, else the first system browser found; null when there is none. */
export function findChromium(): string | null {
  const fromEnv = process.env.MEK_CHROMIUM;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export function launchChromium(executablePath: string): Promise<Browser> {
  // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
  return puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
}
