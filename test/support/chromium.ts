/**
 * Opens a local HTML file in real headless Chromium (Debian's package), isolated: its own
 * profile directory, no background networking, no component updates. `dumpDom` returns the DOM
 * after load (scripts run); `screenshot` writes a PNG.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { toolPath } from './tools.js';

async function chromium(args: string[]): Promise<string> {
  const bin = toolPath('chromium');
  if (bin === null) throw new Error('chromium is not installed');
  const profile = mkdtempSync(join(tmpdir(), 'ffetch-chromium-'));
  try {
    const { stdout } = await promisify(execFile)(
      bin,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--no-default-browser-check',
        `--user-data-dir=${profile}`,
        ...args,
      ],
      { encoding: 'utf8', timeout: 60_000, maxBuffer: 256 * 1024 * 1024 },
    );
    return stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

export function dumpDom(file: string): Promise<string> {
  return chromium(['--virtual-time-budget=5000', '--dump-dom', pathToFileURL(file).href]);
}

export async function screenshot(file: string, png: string, size = '1200,2400'): Promise<void> {
  await chromium([`--screenshot=${png}`, `--window-size=${size}`, '--hide-scrollbars', pathToFileURL(file).href]);
}
