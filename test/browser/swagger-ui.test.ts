/**
 * Swagger UI at /docs in a real browser (headless Chromium through playwright-core, no browser
 * download): deep links open an operation, Basic credentials are authorized once (and persist),
 * "Try it out" then "Execute" lists and creates books against the app itself, and the top bar
 * shows the app's title and the document's URL.
 */
import { existsSync } from 'node:fs';
import t from 'tap';
import { createSuperuser } from '../../src/rest/index.ts';
import { isbn, libraryApp } from '../helpers.ts';
import { CHROMIUM, listen, openChromium } from './chromium.ts';

const USERNAME = 'swagger';
const PASSWORD = 'try-it-out-pw';

t.test('Swagger UI tries out the Library operations', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: install it with "apt-get install -y chromium"` }, async (t) => {
  const { app } = await libraryApp(t);
  await createSuperuser(app.orm.em.fork(), { username: USERNAME, email: 'swagger@example.org', password: PASSWORD });
  const base = await listen(app);

  const { page } = await openChromium(t, 'fastrest-swagger-ui-');
  page.setDefaultTimeout(10_000);
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));

  /** Opens an operation by its deep link (`#/{tag}/{operationId}`), presses Try it out, optionally sets the body, executes; the status shown. */
  const tryOut = async (tag: string, operationId: string, body?: object, path: Record<string, string> = {}): Promise<{ status: string; text: string }> => {
    // A new page load each time: a deep link is read when Swagger UI starts, not on a hash change.
    await page.goto('about:blank');
    await page.goto(`${base}/docs/#/${tag}/${operationId}`);
    const block = page.locator(`#operations-${tag}-${operationId}`);
    await block.locator('.opblock-body').waitFor();
    await block.locator('button.try-out__btn').click();
    for (const [name, value] of Object.entries(path)) await block.locator(`tr[data-param-name="${name}"] input`).fill(value);
    if (body) await block.locator('.body-param textarea').fill(JSON.stringify(body));
    await block.locator('button.execute').click();
    const status = block.locator('.live-responses-table tr.response .response-col_status').first();
    await status.waitFor();
    return { status: (await status.innerText()).trim(), text: await block.locator('.live-responses-table tr.response .response-col_description').first().innerText() };
  };

  await t.test('a deep link opens the operation, documented with its parameters and answers', async (t) => {
    await page.goto(`${base}/docs/#/books/listBooks`);
    const block = page.locator('#operations-books-listBooks');
    await block.locator('.opblock-body').waitFor();
    t.match(await block.locator('.opblock-summary-path').innerText(), '/api/books/');
    const parameters = await block.locator('.parameters .parameter__name').allInnerTexts();
    for (const name of ['search', 'ordering', 'limit', 'offset', 'format']) t.ok(parameters.some((p) => p.startsWith(name)), `${name} is a parameter`);
    const statuses = await block.locator('.responses-table:not(.live-responses-table) tr.response .response-col_status').allInnerTexts();
    t.same(statuses.map((s) => s.trim()), ['200', '304', '400', '403', '404', '406'], statuses.join(' '));
  });

  await t.test('Basic credentials are authorized once and persist', async (t) => {
    await page.goto(`${base}/docs/`);
    await page.locator('.auth-wrapper button.authorize').click();
    const basic = page.locator('.auth-container', { hasText: 'basicAuth' });
    await basic.locator('input[type="text"]').fill(USERNAME);
    await basic.locator('input[type="password"]').fill(PASSWORD);
    await basic.locator('button.authorize').click();
    await basic.locator('h6', { hasText: 'Authorized' }).waitFor();
    t.pass('the scheme shows as authorized');
    await page.locator('.dialog-ux button.btn-done').first().click();
    await page.reload();
    await page.locator('.auth-wrapper button.authorize.locked').waitFor();
    t.pass('after a reload the lock is still closed (persistAuthorization)');
  });

  let createdId = '';
  await t.test('Try it out creates a book (201) and lists it (200)', async (t) => {
    const created = await tryOut('books', 'createBook', { title: 'Tried Out', subtitle: '', author: 'Grace Hopper', isbn: isbn(777) });
    t.equal(created.status, '201', 'created');
    t.match(created.text, /Tried Out/);
    createdId = /"id": (\d+)/.exec(created.text)?.[1] ?? '';
    const listed = await tryOut('books', 'listBooks');
    t.equal(listed.status, '200');
    t.match(listed.text, /Tried Out/);
  });

  await t.test('Try it out reads, changes and deletes that book by its id', async (t) => {
    const id = { id: createdId };
    t.match(id.id, /^\d+$/, 'the id the create answer showed');
    t.equal((await tryOut('books', 'retrieveBook', undefined, id)).status, '200');
    const changed = await tryOut('books', 'partialUpdateBook', { subtitle: 'Patched in Swagger UI' }, id);
    t.equal(changed.status, '200');
    t.match(changed.text, /Patched in Swagger UI/);
    t.equal((await tryOut('books', 'destroyBook', undefined, id)).status, '204');
    t.equal((await tryOut('books', 'retrieveBook', undefined, id)).status, '404');
  });

  await t.test('Try it out shows a validation error as a 400 with the field', async (t) => {
    const refused = await tryOut('books', 'createBook', { title: 'Bad', author: 'Grace Hopper', isbn: '123' });
    t.equal(refused.status, '400');
    t.match(refused.text, /isbn/);
  });

  await t.test('the top bar shows the app\'s title and the explore box the URL of /openapi.json', async (t) => {
    await page.goto('about:blank');
    await page.goto(`${base}/docs/`);
    await page.locator('#operations-books-listBooks').waitFor();
    t.equal(await page.title(), 'The Library');
    t.match(await page.locator('.topbar input.download-url-input').inputValue(), /\/openapi\.json$/);
    const logo = page.locator('.topbar .topbar-wrapper a.link img');
    t.match(await logo.getAttribute('src'), /^data:image\/svg\+xml;base64,/);
    const svg = Buffer.from((await logo.getAttribute('src'))!.split(',')[1]!, 'base64').toString('utf8');
    t.match(svg, />The Library</, 'the logo is the title');
    const drawn = await logo.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth);
    t.ok(drawn > 0, 'and the browser draws it');
  });

  await t.test('the page raised no script error', async (t) => {
    t.same(errors, []);
  });
});
