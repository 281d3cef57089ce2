/**
 * Read replicas: MikroORM sends reads outside transactions to a random replica (`replicas`,
 * `preferReadReplicas`). An EntityManager that has written sticks to the primary from then on, so
 * a request reads what it just wrote, whatever the replicas' lag; forks start fresh (a new request
 * reads from a replica again). The direct statements (`statements.ts`) follow the same rule.
 */
import type { EntityManager } from '@mikro-orm/core';
import { SetupError } from '../exceptions.ts';

const STICKY = Symbol('fastrest.readsFromPrimary');

/** From now on, reads of `em` go to the primary (it wrote, or is about to). */
export function stickToPrimary(em: EntityManager): void {
  (em as unknown as { [STICKY]?: boolean })[STICKY] = true;
}

/** Whether `em` reads from the primary: it wrote, it is in a transaction, or the ORM prefers the primary. */
export function readsFromPrimary(em: EntityManager): boolean {
  return Boolean((em as unknown as { [STICKY]?: boolean })[STICKY]) || em.isInTransaction() || em.config.get('preferReadReplicas') === false;
}

/** The MikroORM `replicas` option of replica URLs (each a `postgres://` URL, named `read-1`, `read-2`...). */
export function replicaConnections(urls: readonly string[]): { name: string; clientUrl: string }[] {
  return urls.map((url, i) => {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new SetupError('FASTREST_ERR_DATABASE_URL', `expected postgres:// replica URLs, got "${url.replace(/\/\/[^@]*@/, '//***@')}"`);
    }
    return { name: `read-${i + 1}`, clientUrl: url };
  });
}

type Options = Record<string, unknown> | undefined;
type Method = (this: EntityManager, ...args: any[]) => Promise<unknown>;

/** Where each read method takes its options (the ORM reads `connectionType` from them). */
const READS = { find: 2, findOne: 2, findOneOrFail: 2, findAndCount: 2, count: 2, findAll: 1, findByCursor: 1 } as const;
const WRITES = ['flush', 'nativeInsert', 'nativeUpdate', 'nativeDelete', 'insert', 'insertMany', 'upsert', 'upsertMany', 'begin'] as const;

/**
 * A subclass of the driver's EntityManager (MikroORM's `entityManager` option) whose writes make it
 * stick to the primary and whose reads, once it sticks, ask for the primary (`connectionType: 'write'`).
 */
export function replicaAwareEntityManager<T extends abstract new (...args: any[]) => EntityManager>(Base: T): T {
  abstract class ReplicaAwareEntityManager extends Base {}
  const proto = ReplicaAwareEntityManager.prototype as unknown as Record<string, Method>;
  const base = Base.prototype as unknown as Record<string, Method>;
  for (const [name, at] of Object.entries(READS)) {
    const read = base[name]!;
    proto[name] = function (this: EntityManager, ...args: unknown[]) {
      if ((this as unknown as { [STICKY]?: boolean })[STICKY]) {
        const options = args[at] as Options;
        args[at] = { ...options, connectionType: options?.['connectionType'] ?? 'write' };
      }
      return read.apply(this, args);
    };
  }
  for (const name of WRITES) {
    const write = base[name]!;
    proto[name] = function (this: EntityManager, ...args: unknown[]) {
      stickToPrimary(this);
      return write.apply(this, args);
    };
  }
  const createQueryBuilder = base['createQueryBuilder'] as unknown as (this: EntityManager, ...args: unknown[]) => unknown;
  (proto as unknown as Record<string, unknown>)['createQueryBuilder'] = function (this: EntityManager, entity: unknown, alias?: unknown, type?: unknown, ...rest: unknown[]) {
    const sticky = (this as unknown as { [STICKY]?: boolean })[STICKY];
    return createQueryBuilder.call(this, entity, alias, type ?? (sticky ? 'write' : undefined), ...rest);
  };
  return ReplicaAwareEntityManager as unknown as T;
}
