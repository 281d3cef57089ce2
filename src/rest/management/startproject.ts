/**
 * `fastrest startproject <dir>`: writes a minimal app on fastrest (a `Note` entity, its
 * serializer, viewset and router, a server on the embedded database and management commands)
 * from the templates in ./templates/project/. Uses Node's built-ins only, so it runs before the
 * project's dependencies are installed.
 */
import { existsSync, globSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const templates = fileURLToPath(new URL('./templates/project/', import.meta.url));

/** What `startProject` wrote. */
export interface StartedProject {
  dir: string;
  name: string;
  /** Paths of the files written, relative to `dir`. */
  files: string[];
}

/** The package name a folder name gives (npm names are lower case, without spaces). */
export function projectName(dir: string): string {
  const name = basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9._~-]+/g, '-').replace(/^[._-]+|-+$/g, '');
  return name || 'fastrest-app';
}

/** The version of this fastrest, which the new project depends on. */
function ownVersion(): string {
  for (const candidate of ['../package.json', '../../package.json']) {
    const path = fileURLToPath(new URL(candidate, import.meta.url));
    if (!existsSync(path)) continue;
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
    if (manifest.name === 'fastrest' && manifest.version) return manifest.version;
  }
  throw new Error('fastrest: cannot find the package.json of fastrest itself');
}

/** Fills `{{key}}` placeholders. */
function fill(text: string, values: Record<string, string>): string {
  return text.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

/** Writes a new project into `dir`, which must not exist or be empty. */
export function startProject(dir: string): StartedProject {
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0) throw new Error(`fastrest: ${target} already exists and is not empty`);
  const name = projectName(target);
  const values = { name, fastrestVersion: ownVersion() };
  const files: string[] = [];
  for (const template of globSync('**/*.tmpl', { cwd: templates }).sort()) {
    // npm leaves dotfiles such as .gitignore out of packages: their templates drop the dot.
    const relative = template.replace(/\.tmpl$/, '').replace(/(^|[/\\])gitignore$/, '$1.gitignore');
    const path = join(target, relative);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, fill(readFileSync(join(templates, template), 'utf8'), values));
    files.push(relative);
  }
  mkdirSync(join(target, 'migrations'), { recursive: true });
  return { dir: target, name, files };
}
