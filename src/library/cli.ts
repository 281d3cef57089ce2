/**
 * Management commands, as Django's manage.py:
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
import { authCommands, migrate, openDatabase, runAuthCommand, schemaDrifted } from 'fastrest';
import { buildApp } from './app.ts';
import { loadConfig, migrationsPath } from './config.ts';
import { entities } from './entities.ts';
import { seedIfEmpty } from './seed.ts';

const [command, ...args] = process.argv.slice(2);
const config = loadConfig();
const orm = await openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, entities, migrationsPath, connectAttempts: config.databaseUrl ? 30 : 1 });
let code = 0;
try {
  switch (command) {
    case 'migrate': {
      const applied = await migrate(orm);
      console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No migrations to apply.');
      break;
    }
    case 'makemigrations': {
      await migrate(orm);
      const result = await orm.migrator.create(migrationsPath);
      console.log(result.fileName ? `Wrote migrations/${result.fileName}` : 'No changes detected.');
      break;
    }
    case 'checkmigrations': {
      await migrate(orm);
      const drifted = await schemaDrifted(orm);
      console.log(drifted ? 'The entities have changes no migration covers: run `npm run makemigrations`.' : 'Migrations match the entities.');
      code = drifted ? 1 : 0;
      break;
    }
    case 'seed': {
      await migrate(orm);
      console.log(`Added ${await seedIfEmpty(orm.em.fork())} books.`);
      break;
    }
    case 'openapi': {
      const target = args[0] ?? fileURLToPath(new URL('../../schemas/openapi.json', import.meta.url));
      const app = await buildApp(orm);
      await app.ready();
      await writeFile(target, `${JSON.stringify(app.swagger(), null, 2)}\n`);
      console.log(`Wrote ${target}`);
      break;
    }
    case 'createsuperuser':
    case 'changepassword': {
      const io = { em: orm.em.fork(), env: process.env, input: process.stdin, output: process.stdout, error: process.stderr };
      code = await runAuthCommand(command, args, io);
      break;
    }
    default:
      console.error(`usage: node src/library/cli.ts migrate|makemigrations|checkmigrations|seed|openapi [FILE]|${authCommands.join('|')}`);
      code = 2;
  }
} finally {
  await orm.close();
}
process.exit(code);
