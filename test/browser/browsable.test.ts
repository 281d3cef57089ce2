/**
 * The browsable API in a real browser (headless Chromium through playwright-core, no browser
 * download): log in through the log-in page, create a book through the HTML form (and see the
 * error of a bad ISBN beside its field), edit it with PATCH, delete it, page through and search,
 * all under the page's strict Content-Security-Policy, at desktop and phone widths.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { seedIfEmpty } from '../../src/library/seed.ts';
import { createSuperuser } from '../../src/rest/index.ts';
import { PASSWORD } from '../auth-helpers.ts';
import { isbn, libraryApp } from '../helpers.ts';
import { CHROMIUM, listen, openChromium, submit } from './chromium.ts';

const screenshots = fileURLToPath(new URL('../screenshots/', import.meta.url));

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skipped: ${CHROMIUM} is missing; install it with "apt-get install -y chromium" to run the browser tests`);
} else {
  const { app } = await libraryApp(t);
  await seedIfEmpty(app.orm.em.fork());
  await createSuperuser(app.orm.em.fork(), { username: 'admin', password: PASSWORD });
  const base = await listen(app);
  mkdirSync(screenshots, { recursive: true });

  const { page } = await openChromium(t, 'fastrest-chromium-');
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('console', (message) => {
    // Pages of 4xx answers are logged as failed loads: expected; anything else (a CSP refusal, a script error) is not.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  const heading = () => page.locator('h1').innerText();
  const status = () => page.locator('.status-line').innerText();

  t.test('logging in through the log-in page comes back to the page as the user', async (t) => {
    await page.goto(`${base}/api/books/`);
    t.equal(await heading(), 'Book List');
    await page.click('a.login');
    t.match(page.url(), /\/api-auth\/login\/\?next=%2Fapi%2Fbooks%2F/);
    await page.fill('input[name="username"]', 'admin');
    await page.fill('input[name="password"]', PASSWORD);
    await Promise.all([page.waitForURL(`${base}/api/books/`), page.press('input[name="password"]', 'Enter')]);
    t.equal(await page.locator('.username').innerText(), 'admin');
    t.ok(await page.locator('#post-html form.html-form').isVisible(), 'the POST form is shown to a user who may add books');
    await page.screenshot({ path: join(screenshots, 'book-list-desktop.png'), fullPage: true });
  });

  t.test('a bad ISBN comes back with its error beside the field and the values kept; a good one creates the book', async (t) => {
    await page.fill('#post-title', 'Browser book');
    await page.fill('#post-author', 'David Thomas');
    await page.fill('#post-isbn', '123');
    await submit(page, '#post-html button[data-method="POST"]');
    t.match(await status(), /HTTP 400 Bad Request/);
    t.match(await page.locator('#post-isbn-errors').innerText(), /Enter a valid ISBN-13: exactly 13 digits./);
    t.equal(await page.inputValue('#post-title'), 'Browser book');
    t.equal(await page.inputValue('#post-author'), 'David Thomas');
    await page.screenshot({ path: join(screenshots, 'book-form-error.png'), fullPage: true });
    await page.fill('#post-isbn', isbn(777));
    await submit(page, '#post-html button[data-method="POST"]');
    t.match(await status(), /HTTP 201 Created/);
    t.match(await page.locator('pre.prettyprint').innerText(), /"title": "Browser book"/);
  });

  t.test('the link of the new book opens its page, where PATCH changes it and DELETE (confirmed) removes it', async (t) => {
    const link = page.locator('pre.prettyprint .string a').first();
    const url = await link.innerText();
    t.match(url, /\/api\/books\/\d+\/$/);
    await Promise.all([page.waitForURL(url), link.click()]);
    t.equal(await heading(), 'Book Instance');
    t.equal(await page.inputValue('#put-title'), 'Browser book');
    await page.fill('#put-title', 'Browser book, revised');
    await page.click('#put-html button[data-method="PATCH"]');
    await page.locator('.request-line', { hasText: 'PATCH' }).waitFor();
    t.match(await status(), /HTTP 200 OK/);
    t.match(await page.locator('pre.prettyprint').innerText(), /"title": "Browser book, revised"/);
    t.same(problems, [], 'no script or CSP errors after the page was replaced');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.click('form.delete button');
    await page.locator('.request-line', { hasText: 'DELETE' }).waitFor();
    t.match(await status(), /HTTP 200 OK/);
    await page.goto(url);
    t.match(await status(), /HTTP 404 Not Found/);
  });

  t.test('the page controls page through a list, and the Filters dialog searches it', async (t) => {
    await page.goto(`${base}/api/books/?limit=2`);
    t.equal(await page.locator('.pagination a[aria-current="page"]').innerText(), '1');
    await Promise.all([page.waitForURL(/offset=2/), page.click('.pagination a[rel="next"]')]);
    t.equal(await page.locator('.pagination a[aria-current="page"]').innerText(), '2');
    await page.click('#filters > summary');
    await page.fill('#filter-search-search', 'pragmatic');
    await Promise.all([page.waitForURL(/search=pragmatic/), page.press('#filter-search-search', 'Enter')]);
    const body = await page.locator('pre.prettyprint').innerText();
    t.match(body, /The Pragmatic Programmer/);
    t.notMatch(body, /Introduction to Algorithms/);
  });

  t.test('the keyboard reaches the page: the first Tab focuses the skip link, and focus is visible', async (t) => {
    await page.goto(`${base}/api/books/`);
    await page.keyboard.press('Tab');
    t.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to content');
    const outline = await page.evaluate('getComputedStyle(document.activeElement).outlineStyle');
    t.equal(outline, 'solid');
  });

  t.test('at a phone width nothing overflows sideways', async (t) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${base}/api/books/`);
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth')) as number;
    t.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    await page.screenshot({ path: join(screenshots, 'book-list-phone.png'), fullPage: true });
    t.same(problems, [], 'no console errors (CSP violations would be errors)');
  });
}
