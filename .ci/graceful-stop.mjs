// Stops a running Library container under load and checks that no request was lost.
//   node .ci/graceful-stop.mjs PORT CONTAINER
// Slow uploads are in flight when SIGTERM arrives (headers sent, body pending): they must all
// complete with 201. Meanwhile loops of GETs, one fresh connection each, run until the server
// stops accepting: each must answer 200 (or 503 while closing) or be refused before connecting.
// Prints `ok - ...` / `not ok - ...` lines and `# figure: ...` lines.
import http from 'node:http';
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

const [port, container] = process.argv.slice(2);
if (!port || !container) {
  console.error('usage: node .ci/graceful-stop.mjs PORT CONTAINER');
  process.exit(2);
}
const SLOW_UPLOADS = 5;
const GET_LOOPS = 8;
const UPLOAD_HELD_MS = 1500;

function isbn13(stem) {
  const digits = String(stem).padStart(12, '0');
  const sum = [...digits].reduce((acc, d, i) => acc + Number(d) * (i % 2 === 0 ? 1 : 3), 0);
  return `${digits}${(10 - (sum % 10)) % 10}`;
}

/** A POST whose body is sent in two halves; `finish()` sends the second half. */
function slowUpload(n) {
  const body = JSON.stringify({ title: `In flight ${n}`, author: 'CI', isbn: isbn13(979_100_000_000 + Date.now() % 1_000_000 * 10 + n) });
  const half = Math.floor(body.length / 2);
  let finish;
  const result = new Promise((resolve) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/api/books/', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode }));
      },
    );
    req.on('error', (error) => resolve({ error: error.code ?? error.message }));
    req.write(body.slice(0, half));
    finish = () => req.end(body.slice(half));
  });
  return { result, finish: () => finish() };
}

function get() {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/api/books/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.statusCode)));
      res.on('error', (error) => resolve(error.code ?? error.message));
    });
    req.on('error', (error) => resolve(error.code ?? error.message));
  });
}

const outcomes = new Map();
let stopExited = false;
async function getLoop() {
  for (;;) {
    const outcome = await get();
    outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    if (outcome === 'ECONNREFUSED' || stopExited) return;
  }
}

const uploads = Array.from({ length: SLOW_UPLOADS }, (_, i) => slowUpload(i));
const loops = Array.from({ length: GET_LOOPS }, () => getLoop());
await sleep(500);

const started = performance.now();
const stop = spawn('podman', ['stop', '-t', '15', container], { stdio: ['ignore', 'ignore', 'inherit'] });
const stopped = new Promise((resolve) => stop.on('exit', (code) => resolve({ code, seconds: (performance.now() - started) / 1000 })));
await sleep(UPLOAD_HELD_MS);
for (const upload of uploads) upload.finish();
const uploadResults = await Promise.all(uploads.map((u) => u.result));
const { code, seconds } = await stopped;
stopExited = true;
await Promise.all(loops);

const summary = [...outcomes].map(([k, v]) => `${k}×${v}`).join(', ');
console.log(`# figure: stop under load: ${seconds.toFixed(2)} s (uploads held ${UPLOAD_HELD_MS} ms after SIGTERM)`);
console.log(`# GETs during the stop: ${summary}`);
const report = (pass, text) => console.log(`${pass ? 'ok' : 'not ok'} - ${text}`);
report(code === 0 && seconds < 10, `podman stop under load finishes within 10 s (${seconds.toFixed(2)} s, exit ${code})`);
const created = uploadResults.filter((r) => r.status === 201).length;
report(
  created === SLOW_UPLOADS,
  `requests in flight when SIGTERM arrives complete (${created}/${SLOW_UPLOADS} answered 201: ${uploadResults.map((r) => r.status ?? r.error).join(' ')})`,
);
const lost = [...outcomes].filter(([k]) => !['200', '503', 'ECONNREFUSED'].includes(k));
report(lost.length === 0, `no request lost while stopping: every GET answered 200/503 or was refused before connecting (${summary})`);
report((outcomes.get('200') ?? 0) > 0, 'the GET burst was served before the stop');
