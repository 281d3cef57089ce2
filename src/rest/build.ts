/**
 * `npm run build` (and `npm pack`): the published package is JavaScript and declarations, because
 * Node does not strip types inside node_modules. tsc writes `dist/`; the templates and static
 * assets the modules read beside themselves are copied to the same places under `dist/`.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, globSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
// Everything that is not TypeScript and sits in a templates/ or static/ folder.
for (const file of globSync('**/{templates,static}/**/*.*', { cwd: here, exclude: (name) => name === 'dist' || name === 'node_modules' })) {
  mkdirSync(dirname(join(dist, file)), { recursive: true });
  cpSync(join(here, file), join(dist, file));
}
