/**
 * Shared set-up of the browser tests: Debian's Chromium driven by playwright-core (no browser
 * download), with the flags this machine's closed network needs and a throw-away profile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Test } from 'tap';

export const CHROMIUM = '/usr/bin/chromium';

/** Listens on a port the kernel picks and returns the app's base URL. */
export async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** Headless Chromium on a fresh profile (removed when the test ends) and its first page. */
export async function openChromium(t: Test, profilePrefix: string) {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(join(tmpdir(), profilePrefix));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  t.teardown(async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return { context, page };
}

/**
 * Clicks a button of the browsable page that sends a form and waits for the page the answer
 * writes: `waitForLoadState('load')` alone resolves at once on the page already loaded.
 */
export async function submit(page: import('playwright-core').Page, selector: string): Promise<void> {
  await page.evaluate("document.body.setAttribute('data-replaced', 'no')");
  await page.click(selector);
  await page.waitForFunction("document.readyState === 'complete' && document.body !== null && !document.body.hasAttribute('data-replaced')");
}
