#!/usr/bin/env node
/**
 * The `fastrest` command (the package's bin): `fastrest startproject <dir>` writes a new project.
 * An app's own commands (migrate, makemigrations...) live in its manage.ts, on runManagementCommand.
 */
import { relative } from 'node:path';
import { startProject } from './startproject.ts';

const usage = 'usage: fastrest startproject <dir>';
const [command, dir, ...rest] = process.argv.slice(2);

if (command === 'startproject' && dir && rest.length === 0) {
  try {
    const project = startProject(dir);
    const where = relative(process.cwd(), project.dir) || '.';
    console.log(`Wrote ${project.name} in ${where}: ${project.files.join(', ')}, migrations/`);
    console.log(`Next:\n  cd ${where}\n  npm install\n  npm run makemigrations\n  npm start   # then open http://127.0.0.1:3000/api/notes/`);
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
} else {
  console.error(command === undefined || command === '--help' || command === 'help' ? usage : `fastrest: unknown command or arguments\n${usage}`);
  process.exit(command === '--help' || command === 'help' ? 0 : 2);
}
