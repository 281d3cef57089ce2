import Fastify from 'fastify';
import t from 'tap';
import { defaultSettings, fastrest, resolveSettings, serverOptions, SetupError, type RestSettings } from '../src/rest/index.ts';

t.test('without settings every default applies', async (t) => {
  const settings = resolveSettings();
  t.match(settings, {
    title: 'fastrest API',
    version: '1.0.0',
    description: '',
    openapiPath: '/openapi.json',
    docsPath: '/docs',
    bodyLimit: 1024 * 1024,
    pageSize: 20,
    maxPageSize: 100,
  });
  t.same(settings, defaultSettings);
  t.ok(Object.isFrozen(settings), 'resolved settings cannot be changed afterwards');
  t.ok(Object.isFrozen(defaultSettings));
});

t.test("a setting given overrides its default and the caller's object is left alone", async (t) => {
  const user: Partial<RestSettings> = { title: 'Mine', pageSize: 20 };
  const settings = resolveSettings(user);
  t.equal(settings.title, 'Mine');
  t.equal(settings.pageSize, 20);
  t.equal(settings.maxPageSize, 100, 'the others keep their default');
  t.same(user, { title: 'Mine', pageSize: 20 }, 'no defaults written into the caller object');
  t.not(settings, defaultSettings);
});

t.test('each invalid value is a setup error naming the setting', async (t) => {
  const invalid: [Partial<RestSettings>, RegExp][] = [
    [{ pageSize: 0 }, /pageSize must be a positive integer or null, got 0/],
    [{ pageSize: -5 }, /pageSize/],
    [{ pageSize: 2.5 }, /pageSize/],
    [{ maxPageSize: 0 }, /maxPageSize must be a positive integer, got 0/],
    [{ maxPageSize: 1.5 }, /maxPageSize/],
    [{ bodyLimit: 0 }, /bodyLimit must be a positive integer, got 0/],
    [{ bodyLimit: Number.NaN }, /bodyLimit/],
    [{ openapiPath: 'openapi.json' }, /openapiPath must start with "\/", got "openapi.json"/],
    [{ docsPath: 'docs' }, /docsPath must start with "\/"/],
    [{ secretKey: 'too-short' }, /secretKey must have at least 32 characters/],
  ];
  for (const [user, message] of invalid) {
    t.throws(() => resolveSettings(user), { name: 'SetupError', code: 'FASTREST_ERR_SETTINGS', message }, JSON.stringify(user));
  }
  t.throws(() => resolveSettings({ throttleRates: { anon: '10/fortnight' } }), { code: 'FASTREST_ERR_THROTTLE_RATE' }, 'throttle rates are checked when the app is built');
  t.doesNotThrow(() => resolveSettings({ throttleRates: { anon: '10/min', user: null }, secretKey: 'k'.repeat(32) }));
  t.doesNotThrow(() => resolveSettings({ pageSize: null }), 'pageSize null lists everything');
  t.doesNotThrow(() => resolveSettings({ pageSize: 1, maxPageSize: 1, bodyLimit: 1 }), 'the smallest valid values');
});

t.test('the plugin refuses invalid settings while the app is built', async (t) => {
  const app = Fastify(serverOptions());
  t.teardown(() => app.close());
  await t.rejects(
    (async () => {
      await app.register(fastrest, { settings: { docsPath: 'nope' } });
      await app.ready();
    })(),
    SetupError,
  );
  t.throws(() => serverOptions({ bodyLimit: -1 }), { code: 'FASTREST_ERR_SETTINGS' });
});

/** A bare fastrest app with one route echoing its body. */
async function appWith(settings: Partial<RestSettings>) {
  const app = Fastify(serverOptions(settings));
  await app.register(fastrest, { settings });
  app.post('/echo', async (request) => request.body);
  await app.ready();
  return app;
}

t.test('settings belong to each app, so two apps with different settings coexist', async (t) => {
  const small = await appWith({ title: 'Small', bodyLimit: 64, openapiPath: '/schema.json', docsPath: '/swagger' });
  const plain = await appWith({});
  t.teardown(async () => {
    await small.close();
    await plain.close();
  });

  t.equal(small.restSettings.title, 'Small');
  t.equal(plain.restSettings.title, 'fastrest API');
  t.equal(plain.restSettings.bodyLimit, defaultSettings.bodyLimit);

  const body = { text: 'x'.repeat(100) };
  const tooLarge = await small.inject({ method: 'POST', url: '/echo', payload: body });
  t.equal(tooLarge.statusCode, 413, 'the small app applies its own body limit');
  t.same(tooLarge.json(), { detail: 'Request body is too large.' });
  const accepted = await plain.inject({ method: 'POST', url: '/echo', payload: body });
  t.equal(accepted.statusCode, 200, 'the other app keeps the default limit');
  t.same(accepted.json(), body);

  const smallDoc = await small.inject('/schema.json');
  t.equal(smallDoc.statusCode, 200);
  t.equal(smallDoc.json().info.title, 'Small');
  t.equal((await small.inject('/openapi.json')).statusCode, 404, 'the default path is not served when moved');
  t.equal((await small.inject('/swagger')).statusCode, 200);
  t.equal((await small.inject('/docs')).statusCode, 404);

  const plainDoc = await plain.inject('/openapi.json');
  t.equal(plainDoc.json().info.title, 'fastrest API');
  t.equal((await plain.inject('/docs')).statusCode, 200);
});

t.test('an app built after another sees the settings it was given, not the first one', async (t) => {
  const first = await appWith({ title: 'First' });
  const second = await appWith({ title: 'Second' });
  const third = await appWith({ title: 'First' });
  t.teardown(async () => {
    await first.close();
    await second.close();
    await third.close();
  });
  const titles = await Promise.all([first, second, third].map(async (app) => (await app.inject('/openapi.json')).json().info.title));
  t.same(titles, ['First', 'Second', 'First']);
});
