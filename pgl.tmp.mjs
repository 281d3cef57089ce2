import { PGlite } from '@electric-sql/pglite';
const r = () => (process.memoryUsage().rss / 1048576).toFixed(0);
const extra = process.argv[2] ? ['-c', process.argv[2]] : [];
const t = performance.now();
const db = await PGlite.create({ dataDir: '/tmp/i20pgl/pglite', startParams: [...(await import('@electric-sql/pglite')).PGlite.defaultStartParams ?? [], ...extra] }).catch(e => { console.log(e); process.exit(1); });
console.log('create', (performance.now() - t).toFixed(0), 'ms rss', r(), process.memoryUsage().arrayBuffers/1048576|0);
await db.query('select count(*) from library_book');
console.log('query rss', r(), (await db.query('show shared_buffers')).rows);
await db.close();
