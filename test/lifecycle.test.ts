/**
 * Timeouts against slow clients, over real sockets (the network is the point): a client that
 * sends its headers or its body byte by byte, or says nothing, is cut off close to its timeout.
 */
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify from 'fastify';
import t, { type Test } from 'tap';
import { fastrest, resolveSettings, serverOptions, SetupError, type RestSettings } from '../src/rest/index.ts';

async function server(t: Test, settings: Partial<RestSettings>) {
  const app = Fastify(serverOptions(settings));
  await app.register(fastrest, { settings, openapi: false });
  app.post('/echo', async (request) => request.body);
  app.get('/ping', async () => ({ ok: true }));
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  return (app.server.address() as net.AddressInfo).port;
}

/** Writes `text` one byte every `every` ms until the server closes; returns what it answered and when. */
async function trickle(port: number, text: string, every: number, head = '') {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  const started = Date.now();
  let answer = '';
  let closed = false;
  socket.on('data', (chunk) => (answer += chunk));
  socket.on('error', () => {});
  const done = new Promise<void>((resolve) => socket.once('close', () => ((closed = true), resolve())));
  if (head) socket.write(head);
  for (const byte of text) {
    if (closed) break;
    socket.write(byte);
    await sleep(every);
  }
  await Promise.race([done, sleep(5000)]);
  socket.destroy();
  return { answer, closed, took: Date.now() - started };
}

t.test('a client sending its headers byte by byte is cut off after headersTimeout', async (t) => {
  const port = await server(t, { headersTimeout: 600, requestTimeout: 5000 });
  const { answer, closed, took } = await trickle(port, `GET /ping HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(200)}\r\n\r\n`, 50);
  t.ok(closed, 'the server closed the connection');
  t.match(answer, /^HTTP\/1\.1 408/, 'with 408 Request Timeout');
  t.ok(took >= 550 && took < 2500, `after about 600 ms (${took} ms)`);
});

t.test('a client sending its body byte by byte is cut off after requestTimeout', async (t) => {
  const port = await server(t, { headersTimeout: 500, requestTimeout: 1000 });
  const body = JSON.stringify({ text: 'x'.repeat(200) });
  const { answer, closed, took } = await trickle(port, body, 50, `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
  t.ok(closed, 'the server closed the connection');
  t.match(answer, /^HTTP\/1\.1 408/);
  t.ok(took >= 950 && took < 3000, `after about 1000 ms (${took} ms)`);
});

t.test('a silent connection is closed after connectionTimeout, an idle keep-alive one after keepAliveTimeout', async (t) => {
  const port = await server(t, { connectionTimeout: 500, keepAliveTimeout: 300 });
  const silent = await trickle(port, '', 0);
  t.ok(silent.closed && silent.took < 2500, `silent: closed after ${silent.took} ms`);
  const kept = await trickle(port, '', 0, 'GET /ping HTTP/1.1\r\nHost: x\r\n\r\n');
  t.match(kept.answer, /^HTTP\/1\.1 200/);
  t.match(kept.answer, /Keep-Alive: timeout=0?\d*/i);
  t.ok(kept.closed && kept.took < 2000, `idle after an answer: closed after ${kept.took} ms`);
});

t.test('a client within the timeouts is served', async (t) => {
  const port = await server(t, {});
  const res = await fetch(`http://127.0.0.1:${port}/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
  t.equal(res.status, 200);
  t.same(await res.json(), { a: 1 });
});

t.test('the timeouts have bounded defaults and are checked', async (t) => {
  const defaults = resolveSettings();
  t.same(
    { requestTimeout: defaults.requestTimeout, headersTimeout: defaults.headersTimeout, connectionTimeout: defaults.connectionTimeout, keepAliveTimeout: defaults.keepAliveTimeout, shutdownGrace: defaults.shutdownGrace },
    { requestTimeout: 30_000, headersTimeout: 10_000, connectionTimeout: 60_000, keepAliveTimeout: 72_000, shutdownGrace: 10_000 },
  );
  const options = serverOptions() as Record<string, any>;
  t.match(options, { requestTimeout: 30_000, connectionTimeout: 60_000, keepAliveTimeout: 72_000, http: { headersTimeout: 10_000, requestTimeout: 30_000 } });
  for (const key of ['requestTimeout', 'headersTimeout', 'connectionTimeout', 'keepAliveTimeout', 'shutdownGrace'] as const) {
    t.throws(() => resolveSettings({ [key]: 0 }), SetupError, `${key} 0`);
    t.throws(() => resolveSettings({ [key]: 1.5 }), /FASTREST_ERR_SETTINGS/, `${key} 1.5`);
  }
});
