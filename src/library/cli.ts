/**
 * Management commands, as Django's manage.py (the framework's, from fastrest's runManagementCommand, and the Library's own):
 *   migrate           apply pending migrations
 *   makemigrations    write a migration for what the entities changed (to migrations/)
 *   checkmigrations   exit 1 when the entities and the migrations have drifted apart
 *   seed              give an empty database the sample books
 *   openapi [FILE]    write the OpenAPI document (default schemas/openapi.json)
 *   createsuperuser   make a staff superuser: prompts, or --noinput with FASTREST_SUPERUSER_USERNAME/_EMAIL/_PASSWORD
 *   changepassword U  set user U's password (prompts twice)
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { managementCommands, migrate, openDatabase, runManagementCommand } from 'fastrest';
import { buildApp } from './app.ts';
import { loadConfig, migrationsPath } from './config.ts';
import { entities } from './entities.ts';
import { seedIfEmpty } from './seed.ts';

const [command, ...args] = process.argv.slice(2);
const config = loadConfig();
const orm = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, entities, migrationsPath, connectAttempts: config.databaseUrl ? 30 : 1 });
let code = 0;
try {
  const context = { orm, migrationsPath, env: process.env, input: process.stdin, output: process.stdout, error: process.stderr };
  const framework = await runManagementCommand(command, args, context);
  if (framework !== null) code = framework;
  else if (command === 'seed') {
    await migrate(orm);
    console.log(`Added ${await seedIfEmpty(orm.em.fork())} books.`);
  } else if (command === 'openapi') {
    const target = args[0] ?? fileURLToPath(new URL('../../schemas/openapi.json', import.meta.url));
    const app = await buildApp(orm);
    await app.ready();
    await writeFile(target, `${JSON.stringify(app.swagger(), null, 2)}\n`);
    console.log(`Wrote ${target}`);
  } else {
    console.error(`usage: node src/library/cli.ts ${[...managementCommands, 'seed', 'openapi [FILE]'].join('|')}`);
    code = 2;
  }
} finally {
  await orm.close();
}
process.exit(code);
