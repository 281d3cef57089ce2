import { defineEntity, p, Utils } from '@mikro-orm/core';
import t, { type Test } from 'tap';
import { migrationsPath } from '../src/library/config.ts';
import { CHECKED_MIKRO_ORM, checkInternals, internalsProblems } from '../src/rest/orm.ts';
import { createTestDatabase, SetupError } from '../src/rest/index.ts';

const Probe = defineEntity({
  name: 'Probe',
  tableName: 'orm_probe',
  properties: { id: p.integer().primary(), title: p.string() },
});

/** Hides `name` on `object` (an own property shadowing the prototype's) until the test ends. */
function hide(t: Test, object: object, name: string): void {
  const own = Object.getOwnPropertyDescriptor(object, name);
  Object.defineProperty(object, name, { value: undefined, configurable: true, writable: true });
  t.teardown(() => {
    if (own) Object.defineProperty(object, name, own);
    else delete (object as Record<string, unknown>)[name];
  });
}

t.test('the installed MikroORM has every internal member the database adapter uses', async (t) => {
  const db = await createTestDatabase({ entities: [Probe], migrationsPath, migrate: false });
  t.teardown(() => db.drop());
  const problems = internalsProblems(db.orm);
  t.same(problems, [], `MikroORM ${Utils.getORMVersion()} internals changed (fastrest was checked against ${CHECKED_MIKRO_ORM}): ${problems.join('; ')}`);
  t.equal(Utils.getORMVersion(), CHECKED_MIKRO_ORM, 'the version the internals were checked against is the one installed (update CHECKED_MIKRO_ORM after checking a new one)');
});

t.test('a missing driver member is named, with the MikroORM version, in a setup error', async (t) => {
  const db = await createTestDatabase({ entities: [Probe], migrationsPath, migrate: false });
  t.teardown(() => db.drop());
  hide(t, db.orm.em.getDriver(), 'mapResult');
  const error = (() => {
    try {
      checkInternals(db.orm);
    } catch (caught) {
      return caught;
    }
    return null;
  })();
  t.ok(error instanceof SetupError, 'a SetupError is thrown');
  t.equal((error as SetupError).code, 'FASTREST_ERR_ORM_INTERNALS');
  t.match((error as Error).message, `MikroORM ${Utils.getORMVersion()} internals changed`);
  t.match((error as Error).message, 'driver.mapResult() is gone');
});

t.test('a query builder without the members counting uses is reported', async (t) => {
  const db = await createTestDatabase({ entities: [Probe], migrationsPath, migrate: false });
  t.teardown(() => db.drop());
  const qb = (db.orm.em.fork() as unknown as { createQueryBuilder(entity: unknown): object }).createQueryBuilder(Probe);
  hide(t, Object.getPrototypeOf(qb), 'processPopulateHint');
  t.same(internalsProblems(db.orm), ['queryBuilder.processPopulateHint() is gone']);
});

t.test('opening a database whose driver lacks a member the adapter uses fails before any request', async (t) => {
  const db = await createTestDatabase({ entities: [Probe], migrationsPath, migrate: false });
  const driverClass = Object.getPrototypeOf(db.orm.em.getDriver()) as object;
  await db.drop();
  hide(t, driverClass, 'getSchemaName');
  await t.rejects(createTestDatabase({ entities: [Probe], migrationsPath, migrate: false }), { code: 'FASTREST_ERR_ORM_INTERNALS', message: /driver\.getSchemaName\(\) is gone/ });
});
