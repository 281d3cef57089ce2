/**
 * The layering of docs/architecture.md, checked by dependency-cruiser with the rules of
 * .dependency-cruiser.mjs: on the repository itself, and on a small tree that breaks each kind of
 * rule, so a rule that stopped matching would be noticed.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const root = fileURLToPath(new URL('..', import.meta.url));
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const config = join(root, '.dependency-cruiser.mjs');

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

/** The violations dependency-cruiser reports for `paths` under `cwd`, with the repository's rules. */
async function violations(cwd: string, paths: string[]): Promise<{ violations: Violation[]; modules: number }> {
  const { stdout } = await promisify(execFile)(depcruise, [...paths, '--config', config, '--output-type', 'json'], { cwd, maxBuffer: 64 * 1024 * 1024 }).catch(
    // depcruise exits non-zero when it finds violations; the report is on stdout all the same.
    (error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }),
  );
  const result = JSON.parse(stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: result.summary.violations, modules: result.summary.totalCruised };
}

t.test('the framework, the Library and the benchmarks obey every layering rule', async (t) => {
  const result = await violations(root, ['src', 'bench']);
  t.ok(result.modules > 100, `the whole tree is cruised (${result.modules} modules)`);
  t.same(
    result.violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`),
    [],
    'no import cycle and no import against the layers',
  );
});

t.test('each kind of rule catches a tree that breaks it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'fastrest-layers-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const files: Record<string, string> = {
    'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'nodenext', allowImportingTsExtensions: true, noEmit: true } }),
    // A low layer importing a higher one, which imports it back: a cycle and a layer violation.
    'src/rest/exceptions.ts': "import { router } from './routers.ts';\nexport const exceptions = router;\n",
    'src/rest/routers.ts': "import { exceptions } from './exceptions.ts';\nexport const router = 1;\nexport const again = exceptions;\n",
    // A module no layer names, and one reaching into the database adapter past its facade.
    'src/rest/stray.ts': "import { pool } from './orm/internals.ts';\nexport const stray = pool;\n",
    'src/rest/orm/internals.ts': 'export const pool = 1;\n',
    // The framework importing the app, and the app importing the framework by path.
    'src/rest/settings.ts': "import { app } from '../library/app.ts';\nexport const settings = app;\n",
    'src/library/app.ts': "import { router } from '../rest/routers.ts';\nexport const app = router;\n",
  };
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  const found = new Set((await violations(dir, ['src'])).violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`));
  for (const expected of [
    'no-circular: src/rest/exceptions.ts -> src/rest/routers.ts',
    'layer-base: src/rest/exceptions.ts -> src/rest/routers.ts',
    'every-module-has-a-layer: src/rest/stray.ts -> src/rest/orm/internals.ts',
    'orm-behind-its-facade: src/rest/stray.ts -> src/rest/orm/internals.ts',
    'internals-in-one-module: src/rest/stray.ts -> src/rest/orm/internals.ts',
    'framework-knows-no-app: src/rest/settings.ts -> src/library/app.ts',
    'app-imports-the-package: src/library/app.ts -> src/rest/routers.ts',
  ]) {
    t.ok(found.has(expected), expected);
  }
});
