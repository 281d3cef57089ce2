/**
 * Plain Fastify routes in a real browser: the browsable page of a schema'd route, its POST form
 * built from the body schema (an error shown beside its field, then a success), and the raw-data
 * tab, under the page's strict Content-Security-Policy.
 */
import { existsSync } from 'node:fs';
import t from 'tap';
import { helloApp } from '../fixtures/hello-app.ts';
import { CHROMIUM, listen, openChromium, submit } from './chromium.ts';

if (!existsSync(CHROMIUM)) {
  t.plan(0, `skipped: ${CHROMIUM} is missing; install it with "apt-get install -y chromium" to run the browser tests`);
} else {
  const app = await helloApp();
  t.teardown(() => app.close());
  const base = await listen(app);
  const { page } = await openChromium(t, 'fastrest-plain-');
  page.setDefaultTimeout(15_000);
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(String(error)));
  const status = () => page.locator('.status-line').innerText();

  t.test('a plain GET route renders the browsable page with its summary and its answer', async (t) => {
    await page.goto(`${base}/hello?name=Ada`);
    t.equal(await page.locator('h1').innerText(), 'Say hello');
    t.match(await status(), /HTTP 200 OK/);
    t.match(await page.locator('pre.prettyprint').innerText(), /"message": "Hello, Ada!"/);
    t.match(await page.locator('strong').first().innerText(), 'whoever', 'the description is Markdown');
  });

  t.test('the POST form from the body schema shows a rejected value beside its field, then greets', async (t) => {
    await page.goto(`${base}/hello`);
    await page.fill('#post-name', 'Grace');
    await page.fill('#post-times', '9');
    await submit(page, '#post-html button[data-method="POST"]');
    t.match(await status(), /HTTP 400 Bad Request/);
    t.match(await page.locator('#post-times-errors').innerText(), /less than or equal to 3/);
    t.equal(await page.inputValue('#post-name'), 'Grace', 'the value typed is kept');
    await page.fill('#post-times', '2');
    await submit(page, '#post-html button[data-method="POST"]');
    t.match(await status(), /HTTP 201 Created/);
    t.match(await page.locator('pre.prettyprint').innerText(), /Hello, Grace!Hello, Grace!/);
  });

  t.test('the raw-data tab posts JSON typed by hand', async (t) => {
    await page.goto(`${base}/hello`);
    await page.click('a[data-tab="post-raw"]');
    await page.locator('#post-raw textarea').fill('{"name": "Linus"}');
    await submit(page, '#post-raw button[data-method="POST"]');
    t.match(await status(), /HTTP 201 Created/);
    t.match(await page.locator('pre.prettyprint').innerText(), /Hello, Linus!/);
  });

  t.test('no script error or Content-Security-Policy refusal happened on the way', async (t) => {
    t.same(problems, []);
  });
}
