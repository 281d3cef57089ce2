import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defineEntity, p } from '@mikro-orm/core';
import t from 'tap';
import { migrationsPath } from '../src/library/config.ts';
import { Book, entities } from '../src/library/entities.ts';
import { createTestDatabase, migrate, MIGRATION_LOCK, openDatabase, schemaDrifted, withAdvisoryLock } from '../src/rest/index.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const run = promisify(execFile);
const committed = (await readdir(migrationsPath)).filter((f) => /^Migration\d+\.ts$/.test(f)).map((f) => f.replace(/\.ts$/, '')).sort();

/** The environment of a child process: this Node first on PATH, the given database settings only. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const { DATABASE_URL: _, DATA_DIR: __, ...env } = process.env;
  return { ...env, PATH: `${dirname(process.execPath)}${delimiter}${env['PATH'] ?? ''}`, ...extra };
}

t.test('the committed migrations create exactly what the entities describe', async (t) => {
  t.ok(committed.length > 0, 'there are committed migrations');
  const db = await createTestDatabase({ entities, migrationsPath });
  t.teardown(() => db.drop());
  t.equal(await schemaDrifted(db.orm), false);
  const executed = (await db.orm.migrator.getExecuted()).map((m) => m.name);
  t.same(executed.sort(), committed, 'every committed migration was applied');

  await t.test('the drift check fails as soon as the database and the entities disagree', async (t) => {
    const sql = (query: string) => db.orm.em.getConnection().execute(query);
    await sql('alter table "library_book" add column "edition" integer');
    t.equal(await schemaDrifted(db.orm), true, 'a column no entity declares');
    await sql('alter table "library_book" drop column "edition"');
    t.equal(await schemaDrifted(db.orm), false, 'in step again');
    await sql('alter table "library_book" alter column "title" type varchar(300)');
    t.equal(await schemaDrifted(db.orm), true, 'a column of another length');
  });
});

t.test('an entity no migration creates is drift', async (t) => {
  const Edition = defineEntity({
    name: 'Edition',
    tableName: 'library_edition',
    properties: { id: p.integer().primary().autoincrement(), number: p.integer(), book: p.manyToOne(Book) },
  });
  const db = await createTestDatabase({ entities: [...entities, Edition], migrationsPath });
  t.teardown(() => db.drop());
  t.equal(await schemaDrifted(db.orm), true);
});

t.test('`checkmigrations` exits 0 while the migrations match the entities', async (t) => {
  const { stdout } = await run(process.execPath, ['src/library/cli.ts', 'checkmigrations'], { cwd: root, env: childEnv({ DATA_DIR: 'memory://' }) });
  t.match(stdout, 'Migrations match the entities.');
});

t.test('`npm run migrate` applies the migrations to a fresh PGlite data folder, once', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fastrest-migrate-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'pglite');
  const env = childEnv({ DATA_DIR: dataDir });
  const first = await run('npm', ['run', '--silent', 'migrate'], { cwd: root, env });
  t.equal(first.stdout.trim(), `Applied: ${committed.join(', ')}`);
  const second = await run('npm', ['run', '--silent', 'migrate'], { cwd: root, env });
  t.equal(second.stdout.trim(), 'No migrations to apply.', 'running it again changes nothing');

  const orm = await openDatabase({ dataDir, entities, migrationsPath });
  t.teardown(() => orm.close(true));
  t.same((await orm.migrator.getExecuted()).map((m) => m.name).sort(), committed);
  t.equal(await schemaDrifted(orm), false, 'the folder holds the schema of the entities');
});

t.test('`npm run migrate` applies the migrations to a fresh PostgreSQL database, once', { skip: process.env['DATABASE_URL'] ? false : 'DATABASE_URL is not set' }, async (t) => {
  const db = await createTestDatabase({ entities, migrationsPath, migrate: false });
  t.teardown(() => db.drop());
  const env = childEnv({ DATABASE_URL: db.url! });
  const first = await run('npm', ['run', '--silent', 'migrate'], { cwd: root, env });
  t.equal(first.stdout.trim(), `Applied: ${committed.join(', ')}`);
  const second = await run('npm', ['run', '--silent', 'migrate'], { cwd: root, env });
  t.equal(second.stdout.trim(), 'No migrations to apply.');
  t.equal(await schemaDrifted(db.orm), false);
});

t.test('migrate() on two connections at once: one applies the migrations, the other waits for its lock and finds none pending', { skip: process.env['DATABASE_URL'] ? false : 'DATABASE_URL is not set' }, async (t) => {
  const db = await createTestDatabase({ entities, migrationsPath, migrate: false });
  t.teardown(() => db.drop());
  const other = await openDatabase({ url: db.url!, entities, migrationsPath });
  t.teardown(() => other.close(true));
  const results = await Promise.all([migrate(db.orm), migrate(other)]);
  t.same(results.map((names) => names.length).sort(), [0, committed.length]);
  t.same((await db.orm.migrator.getExecuted()).map((m) => m.name).sort(), committed, 'each recorded once');
});

t.test('while the migration lock is held elsewhere, migrate() waits for it', { skip: process.env['DATABASE_URL'] ? false : 'DATABASE_URL is not set' }, async (t) => {
  const db = await createTestDatabase({ entities, migrationsPath, migrate: false });
  t.teardown(() => db.drop());
  const other = await openDatabase({ url: db.url!, entities, migrationsPath });
  t.teardown(() => other.close(true));
  let migrated: Promise<string[]> | undefined;
  const order: string[] = [];
  await withAdvisoryLock(other, MIGRATION_LOCK, async () => {
    migrated = migrate(db.orm).then((names) => (order.push('migrated'), names));
    const waiting = async () =>
      Number((await other.em.getConnection().execute<{ n: string }[]>(`select count(*) as n from pg_locks where locktype = 'advisory' and not granted`))[0]!.n);
    for (let i = 0; i < 200 && (await waiting()) === 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
    t.equal(await waiting(), 1, 'migrate() waits on the advisory lock');
    order.push('released');
  });
  t.equal((await migrated!).length, committed.length);
  t.same(order, ['released', 'migrated']);
});
