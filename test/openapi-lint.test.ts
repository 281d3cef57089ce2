import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import t from 'tap';
import { libraryApp } from './helpers.ts';

const root = fileURLToPath(new URL('../', import.meta.url));
const committed = fileURLToPath(new URL('../schemas/openapi.json', import.meta.url));
const run = promisify(execFile);

t.test('the committed schemas/openapi.json is the document the running app serves', async (t) => {
  const { client } = await libraryApp(t);
  const served = (await client.get('/openapi.json')).data;
  const text = await readFile(committed, 'utf8');
  t.equal(text, `${JSON.stringify(served, null, 2)}\n`, 'schemas/openapi.json has drifted from the app: run `npm run openapi` and commit it');
});

t.test("Redocly's recommended rules find no error and no warning, offline", async (t) => {
  // No telemetry, no update check: the linter runs on the committed file with the repository's redocly.yaml.
  const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' };
  const cli = fileURLToPath(new URL('../node_modules/@redocly/cli/bin/cli.js', import.meta.url));
  const result = await run(process.execPath, [cli, 'lint', 'schemas/openapi.json', '--format', 'json'], { cwd: root, env }).catch((error) => error);
  const report = JSON.parse(result.stdout) as { totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] };
  t.same(report.problems.map((p) => `${p.ruleId}: ${p.message}`), [], 'no problems');
  t.same({ errors: report.totals.errors, warnings: report.totals.warnings }, { errors: 0, warnings: 0 });
  t.equal(result.code ?? 0, 0, 'the linter exits 0');
});

t.test('swagger-parser validates the committed document against the OpenAPI 3.1 schema', async (t) => {
  const api = await SwaggerParser.validate(committed);
  t.ok(Object.keys(api.paths ?? {}).length > 5, 'with its paths');
});
