/**
 * The browsable page as a newcomer meets it, in headless Chromium: long headers wrap, a failed
 * submit keeps the tab it came from and marks text inputs in error as it marks selects, the author
 * field takes a new name or suggests existing ones, and the Filters panel fits the window.
 */
import { existsSync } from 'node:fs';
import t from 'tap';
import { seedIfEmpty } from '../../src/library/seed.ts';
import { createSuperuser } from '../../src/rest/index.ts';
import { PASSWORD } from '../auth-helpers.ts';
import { isbn, libraryApp } from '../helpers.ts';
import { CHROMIUM, listen, openChromium, submit } from './chromium.ts';

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skipped: ${CHROMIUM} is missing; install it with "apt-get install -y chromium" to run the browser tests`);
} else {
  const { app } = await libraryApp(t);
  await seedIfEmpty(app.orm.em.fork());
  await createSuperuser(app.orm.em.fork(), { username: 'admin', password: PASSWORD });
  const base = await listen(app);
  const { page } = await openChromium(t, 'fastrest-browsable-page-');
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(String(error)));
  const status = () => page.locator('.status-line').innerText();

  await page.goto(`${base}/api-auth/login/?next=%2Fapi%2Fbooks%2F`);
  await page.fill('input[name="username"]', 'admin');
  await page.fill('input[name="password"]', PASSWORD);
  await Promise.all([page.waitForURL(`${base}/api/books/`), page.press('input[name="password"]', 'Enter')]);

  t.test('a long header (Content-Security-Policy) wraps inside the response box instead of being clipped', async (t) => {
    await page.goto(`${base}/api/books/`);
    const csp = page.locator('pre.prettyprint .header', { hasText: 'Content-Security-Policy' });
    t.match(await csp.innerText(), /object-src 'none'/);
    const lines = (await csp.evaluate((el) => el.getClientRects().length)) as number;
    t.ok(lines > 1, `the value runs over ${lines} lines`);
    const box = await page.locator('pre.prettyprint').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    t.ok(box.scroll <= box.client, `nothing to scroll sideways (${box.scroll} px in ${box.client} px)`);
    t.match(await page.locator('pre.prettyprint').innerText(), /Content-Type: application\/json\n/, 'the content type of the JSON shown');
  });

  t.test('a failed Raw data submit comes back on the Raw data tab, with what was sent', async (t) => {
    await page.goto(`${base}/api/books/`);
    await page.click('#post-forms a[data-tab="post-raw"]');
    const sent = JSON.stringify({ title: 'Raw book', author: 'David Thomas', isbn: '123' });
    await page.fill('#post-content', sent);
    await page.click('#post-raw button[data-method="POST"]');
    await page.locator('.request-line', { hasText: 'POST' }).waitFor();
    t.match(await status(), /HTTP 400 Bad Request/);
    t.ok(await page.locator('#post-raw').isVisible(), 'the Raw data tab is shown');
    t.notOk(await page.locator('#post-html').isVisible(), 'the HTML form tab is not');
    t.match(await page.inputValue('#post-content'), /"isbn": "123"/);
    t.equal(await page.locator('.request-line').innerText(), 'POST /api/books/', 'the request line has no ?format=api');
  });

  t.test('a failed HTML form submit stays on the HTML form, and text inputs in error are marked as selects are', async (t) => {
    await page.goto(`${base}/api/books/`);
    await page.fill('#post-title', 'Form book');
    await page.fill('#post-isbn', '123');
    await submit(page, '#post-html button[data-method="POST"]');
    t.match(await status(), /HTTP 400 Bad Request/);
    t.ok(await page.locator('#post-html').isVisible(), 'the HTML form tab is shown');
    const border = (id: string) => page.evaluate(`getComputedStyle(document.querySelector('${id}')).borderTopColor`);
    const danger = await page.evaluate(`getComputedStyle(document.documentElement).getPropertyValue('--danger').trim()`);
    t.equal(danger, '#b42318');
    t.equal(await border('#post-isbn'), 'rgb(180, 35, 24)', 'the ISBN input in error has the error colour');
    t.not(await border('#post-title'), 'rgb(180, 35, 24)', 'the title, without error, does not');
  });

  t.test('the author field takes a new name and suggests existing ones', async (t) => {
    await page.goto(`${base}/api/books/`);
    const author = page.locator('#post-author');
    t.equal(await author.evaluate((el) => el.tagName), 'INPUT', 'a text input, not a select');
    const suggestions = await page.locator('#post-author-options option').evaluateAll((options) => options.map((o) => o.getAttribute('value')));
    t.ok(suggestions.includes('David Thomas'), 'existing authors are suggested');
    await page.fill('#post-title', 'A first novel');
    await page.fill('#post-author', 'Brand New Writer');
    await page.fill('#post-isbn', isbn(4242));
    await submit(page, '#post-html button[data-method="POST"]');
    t.match(await status(), /HTTP 201 Created/);
    t.match(await page.locator('pre.prettyprint').innerText(), /"author": "Brand New Writer"/);
    const created = (await app.inject({ method: 'GET', url: '/api/authors/?search=Brand%20New' })).json() as unknown;
    t.match(JSON.stringify(created), /Brand New Writer/, 'the author was added');
  });

  t.test('the Filters panel fits a 1280 x 900 window, its inputs inside it, and help only where it says something', async (t) => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(`${base}/api/books/`);
    await page.click('#filters > summary');
    const panel = page.locator('#filters .filters-body');
    if (process.env['SHOT']) await page.screenshot({ path: process.env['SHOT'] });
    const box = (await panel.boundingBox())!;
    t.ok(box.y + box.height <= 900, `the panel ends at ${Math.round(box.y + box.height)} px`);
    t.ok(box.x >= 0 && box.x + box.width <= 1280, 'and within the width');
    const scroll = (await panel.evaluate((el) => el.scrollHeight - el.clientHeight)) as number;
    t.ok(scroll <= 0, `everything shows without scrolling the panel (${scroll} px more)`);
    const outside = await panel.evaluate((el) => {
      const frame = el.getBoundingClientRect();
      return [...el.querySelectorAll('input, select, button')]
        .map((input) => ({ id: input.id || input.getAttribute('name'), rect: input.getBoundingClientRect() }))
        .filter(({ rect }) => rect.width > 0 && (rect.left < frame.left || rect.right > frame.right || rect.bottom > frame.bottom))
        .map(({ id }) => id);
    });
    t.same(outside, [], 'no input sticks out of the panel');
    const helps = await panel.locator('.help').allInnerTexts();
    for (const help of helps) t.notMatch(help, /^[^:]+: (text|a whole number|a number)\.$/, `"${help}" says more than the label`);
    t.notOk(helps.some((h) => h.startsWith('Title')), 'no help that repeats a label');
    t.ok(helps.some((h) => /comma/.test(h)), 'lists and ranges say how to write them');
  });

  t.test('the pages raised no script error', async (t) => {
    t.same(problems, []);
  });
}
