/**
 * The Library website in a real browser: the search box and the page links of "All books", an
 * author's page reached from the list, and the icon the browser can draw.
 */
import { existsSync } from 'node:fs';
import t from 'tap';
import { Author, Book } from '../../src/library/entities.ts';
import { isbn, libraryApp } from '../helpers.ts';
import { CHROMIUM, listen, openChromium } from './chromium.ts';

t.test('a reader searches, pages and follows an author', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: install it with "apt-get install -y chromium"` }, async (t) => {
  const { app } = await libraryApp(t);
  const em = app.orm.em.fork();
  const knuth = em.create(Author, { name: 'Donald Knuth', bio: '' });
  em.create(Book, { title: 'Literate Programming', author: knuth, isbn: isbn(8000) });
  for (let i = 0; i < 25; i++) em.create(Book, { title: `Volume ${String(i).padStart(2, '0')}`, author: knuth, isbn: isbn(8100 + i) });
  await em.flush();
  const base = await listen(app);
  const { page } = await openChromium(t, 'fastrest-website-');
  page.setDefaultTimeout(10_000);

  await page.goto(`${base}/`);
  t.equal(await page.locator('table.books tbody tr').count(), 20, 'a first page of 20');
  await Promise.all([page.waitForURL(/page=2/), page.click('a[rel="next"]')]);
  t.equal(await page.locator('table.books tbody tr').count(), 6, 'the rest on page 2');
  await page.fill('#q', 'literate');
  await Promise.all([page.waitForURL(/q=literate/), page.click('form.search button')]);
  t.same(await page.locator('table.books tbody tr td:first-child').allInnerTexts(), ['Literate Programming']);
  await Promise.all([page.waitForURL(/\/authors\/\d+\/$/), page.click('table.books tbody tr td:nth-child(3) a')]);
  t.equal(await page.locator('h1').innerText(), 'Donald Knuth');
  t.equal(await page.locator('ul.author-books li').count(), 26);
  const drawn = await page.evaluate(`new Promise((resolve) => { const img = new Image(); img.onload = () => resolve(img.naturalWidth); img.onerror = () => resolve(0); img.src = '/favicon.ico'; })`);
  t.equal(drawn, 32, 'the browser decodes /favicon.ico');
});
