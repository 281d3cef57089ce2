/**
 * Management commands of an app's database, as Django's manage.py: `migrate`, `makemigrations`
 * (TypeScript migrations into the app's migrations folder) and `checkmigrations`, plus the user
 * model's commands. An app's CLI opens its database and hands the command here.
 */
import { basename } from 'node:path';
import type { Writable } from 'node:stream';
import type { MikroORM } from '@mikro-orm/core';
import { authCommands, runAuthCommand, type CommandIO } from '../auth/commands.ts';
import { migrate, schemaDrifted } from '../orm.ts';

/** The names of the commands `runMigrationCommand` knows. */
export const migrationCommands = ['migrate', 'makemigrations', 'checkmigrations'] as const;
export type MigrationCommand = (typeof migrationCommands)[number];

/** The commands `runManagementCommand` knows: the migration commands and the user model's. */
export const managementCommands = [...migrationCommands, ...authCommands] as const;

/** What a management command works on and where it writes. */
export interface ManagementContext {
  orm: MikroORM;
  /** The folder of the app's TypeScript migrations (the one `openDatabase` was given). */
  migrationsPath: string;
  output: Writable;
  error: Writable;
}

/** Whether `command` is one of `migrationCommands`. */
export function isMigrationCommand(command: string | undefined): command is MigrationCommand {
  return (migrationCommands as readonly (string | undefined)[]).includes(command);
}

/** Runs a migration command; answers the exit code (1: `checkmigrations` found drift). */
export async function runMigrationCommand(command: MigrationCommand, context: ManagementContext): Promise<number> {
  const { orm, migrationsPath, output } = context;
  const applied = await migrate(orm);
  switch (command) {
    case 'migrate':
      output.write(applied.length ? `Applied: ${applied.join(', ')}\n` : 'No migrations to apply.\n');
      return 0;
    case 'makemigrations': {
      const result = await orm.migrator.create(migrationsPath);
      output.write(result.fileName ? `Wrote ${basename(migrationsPath)}/${result.fileName}\n` : 'No changes detected.\n');
      return 0;
    }
    case 'checkmigrations': {
      const drifted = await schemaDrifted(orm);
      output.write(drifted ? 'The entities have changes no migration covers: run `npm run makemigrations`.\n' : 'Migrations match the entities.\n');
      return drifted ? 1 : 0;
    }
  }
}

/**
 * Runs one of `managementCommands` with its arguments; answers the exit code, or `null` for a
 * command it does not know (the app's own commands, or a usage error).
 */
export async function runManagementCommand(
  command: string | undefined,
  args: readonly string[],
  context: ManagementContext & Pick<CommandIO, 'env' | 'input'>,
): Promise<number | null> {
  if (isMigrationCommand(command)) return runMigrationCommand(command, context);
  if (command === 'createsuperuser' || command === 'changepassword') {
    const { orm, env, input, output, error } = context;
    return runAuthCommand(command, args, { em: orm.em.fork(), env, input, output, error });
  }
  return null;
}
