import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's package; the tests use the system browser instead of downloading one. */
export const CHROMIUM = '/usr/bin/chromium';

/** var/artifacts/console at the repository root (var/ is not committed), three levels up from the compiled helper. */
export const ARTIFACTS = resolve(dirname(fileURLToPath(import.meta.url)), '../../../var/artifacts/console');

export function chromiumMissing(): string | false {
  return existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)`;
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/**
 * Everything a page does that a safe console never should: a JavaScript dialog (an injected alert()), an uncaught
 * error, or a console error (Chromium reports CSP violations there).
 */
export function watchPage(page: Page): { dialogs: string[]; errors: string[] } {
  const seen = { dialogs: [] as string[], errors: [] as string[] };
  page.on('dialog', (dialog) => {
    seen.dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => seen.errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A 401 or 409 answer is logged as "Failed to load resource"; it is an expected answer, not a fault.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) seen.errors.push(`console: ${message.text()}`);
  });
  return seen;
}
