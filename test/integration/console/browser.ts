/**
 * Headless Chromium for the console's browser tests, through playwright-core (no browser
 * download): Debian's chromium, or the one CHROMIUM_PATH names. Without one the tests fail and
 * say how to install it, rather than skip and pass unseen. Screenshots go to .data/screenshots/
 * (gitignored); the README's picture is docs/console.png (UPDATE_README_SCREENSHOT=1).
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SCREENSHOT_DIR = join(ROOT, '.data', 'screenshots');
export const README_SCREENSHOT = join(ROOT, 'docs', 'console.png');

export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.CHROMIUM_PATH ?? '/usr/bin/chromium';
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!existsSync(executablePath)) {
    throw new Error(`no Chromium at ${executablePath}: install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH to a Chromium or Chrome executable`);
  }
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Records what the page did wrong: uncaught errors, console errors, failed answers (a 4xx of
 * the API is an answer, e.g. an unknown order id; a missing page file or a 5xx is not), and
 * every request that did not go to the console itself (the page fetches nothing from the internet).
 */
export function watchPage(page: Page, base: string): { problems: string[] } {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // Chromium logs every 4xx/5xx answer this way; the response handler below judges them.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console error: ${message.text()}`);
  });
  page.on('response', (response) => {
    const status = response.status();
    const apiAnswer = status < 500 && new URL(response.url()).pathname.startsWith('/api/');
    if (status >= 400 && !apiAnswer) problems.push(`${status} for ${response.url()}`);
  });
  page.on('request', (request) => {
    if (!request.url().startsWith(base)) problems.push(`request outside the console: ${request.url()}`);
  });
  return { problems };
}

/** Saves a screenshot as .data/screenshots/<name>.png and returns its path. */
export async function saveScreenshot(page: Page, name: string, options: { fullPage?: boolean; path?: string } = {}): Promise<string> {
  const path = options.path ?? join(SCREENSHOT_DIR, `${name}.png`);
  await mkdir(join(path, '..'), { recursive: true });
  // From the top: the sticky header would otherwise be drawn where the page was scrolled to.
  if (options.fullPage ?? true) await page.evaluate('window.scrollTo(0, 0)');
  await page.screenshot({ path, fullPage: options.fullPage ?? true });
  return path;
}
