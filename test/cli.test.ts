import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/core';
import t, { type Test } from 'tap';
import { migrationsPath } from '../src/library/config.ts';
import { entities } from '../src/library/entities.ts';
import { checkCredentials, createTestDatabase, openDatabase, User } from '../src/rest/index.ts';

const cli = fileURLToPath(new URL('../src/library/cli.ts', import.meta.url));

/** Runs the Library's CLI with `input` on its stdin; answers its exit code and output. */
function run(args: string[], env: Record<string, string>, input = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const { DATABASE_URL: _, DATA_DIR: __, ...inherited } = process.env;
    const child = spawn(process.execPath, [cli, ...args], { env: { ...inherited, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/**
 * A database the CLI's processes and this test both reach: a fresh PostgreSQL database when
 * DATABASE_URL is set, else a PGlite folder (opened here only while no CLI process runs).
 */
async function cliDatabase(t: Test): Promise<{ env: Record<string, string>; inspect<T>(fn: (orm: MikroORM) => Promise<T>): Promise<T> }> {
  if (process.env['DATABASE_URL']) {
    const db = await createTestDatabase({ entities, migrationsPath, migrate: false });
    t.teardown(() => db.drop());
    return { env: { DATABASE_URL: db.url! }, inspect: (fn) => fn(db.orm) };
  }
  const dir = await mkdtemp(join(tmpdir(), 'fastrest-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const dataDir = join(dir, 'pglite');
  return {
    env: { DATA_DIR: dataDir },
    inspect: async (fn) => {
      const orm = await openDatabase({ dataDir, entities, migrationsPath });
      try {
        return await fn(orm);
      } finally {
        await orm.close();
      }
    },
  };
}

// Each CLI run boots Node and the database: slow on a busy machine, never a timing assertion.
t.setTimeout(15 * 60_000);
const db = await cliDatabase(t);
t.equal((await run(['migrate'], db.env)).code, 0, 'the database is migrated first');

/** What the database says about some users: whether they exist, their flags, whether a password logs them in. */
function lookUp(checks: { username: string; password?: string }[]) {
  return db.inspect(async (orm) => {
    const answers: Record<string, { user: User | null; logsIn?: boolean }> = {};
    for (const { username, password } of checks) {
      const em = orm.em.fork();
      answers[`${username}:${password ?? ''}`] = {
        user: await em.findOne(User, { username }),
        ...(password === undefined ? {} : { logsIn: Boolean(await checkCredentials(em, username, password)) }),
      };
    }
    return answers;
  });
}

t.test('createsuperuser --noinput takes the account from the environment', async (t) => {
  const res = await run(['createsuperuser', '--noinput'], {
    ...db.env,
    FASTREST_SUPERUSER_USERNAME: 'root-admin',
    FASTREST_SUPERUSER_EMAIL: 'admin@example.com',
    FASTREST_SUPERUSER_PASSWORD: 'a-long-enough-secret',
  });
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /Superuser created successfully\./);
  const again = await run(['createsuperuser', '--noinput', '--username', 'root-admin'], db.env);
  t.equal(again.code, 1);
  t.match(again.stderr, /That username is already taken\./);

  const nameless = await run(['createsuperuser', '--noinput'], db.env);
  t.equal(nameless.code, 1);
  t.match(nameless.stderr, /CommandError: You must use --username with --noinput/);

  const weak = await run(['createsuperuser', '--noinput', '--username=weak'], { ...db.env, FASTREST_SUPERUSER_PASSWORD: '1234' });
  t.equal(weak.code, 1);
  t.match(weak.stderr, /This password is too short\. It must contain at least 8 characters\./);

  const found = await lookUp([{ username: 'root-admin', password: 'a-long-enough-secret' }, { username: 'root-admin', password: 'another-password' }, { username: 'weak' }]);
  t.match(found['root-admin:a-long-enough-secret'], { user: { email: 'admin@example.com', isStaff: true, isSuperuser: true, isActive: true }, logsIn: true });
  t.equal(found['root-admin:another-password']!.logsIn, false);
  t.equal(found['weak:']!.user, null, 'nothing was created for a weak password');
});

t.test('createsuperuser prompts for what it needs and asks again after a mistake', async (t) => {
  const answers = ['ivy', 'ivy@example.com', 'short', 'short', 'first-password', 'second-password', 'good-password-1', 'good-password-1', ''].join('\n');
  const res = await run(['createsuperuser'], db.env, answers);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /Username.*: /);
  t.match(res.stdout, /Email address: /);
  t.match(res.stdout, /Password: /);
  t.match(res.stderr, /This password is too short/);
  t.match(res.stderr, /Error: Your passwords didn't match\./);
  t.notMatch(res.stdout, /good-password-1/, 'passwords are not echoed');
  t.match(res.stdout, /Superuser created successfully\./);

  const taken = await run(['createsuperuser'], db.env, ['ivy', 'ivy2', '', 'good-password-2', 'good-password-2', ''].join('\n'));
  t.equal(taken.code, 0, taken.stderr);
  t.match(taken.stderr, /Error: That username is already taken\./);

  const ended = await run(['createsuperuser'], db.env, 'quitter\n');
  t.equal(ended.code, 1, 'input that ends early aborts');
  t.match(ended.stderr, /CommandError: Aborted: the input ended\./);

  const found = await lookUp([{ username: 'ivy', password: 'good-password-1' }, { username: 'ivy2' }, { username: 'quitter' }]);
  t.match(found['ivy:good-password-1'], { user: { email: 'ivy@example.com', isSuperuser: true }, logsIn: true });
  t.ok(found['ivy2:']!.user);
  t.equal(found['quitter:']!.user, null);
});

t.test('changepassword sets a new password after two matching prompts', async (t) => {
  const res = await run(['changepassword', 'ivy'], db.env, 'new-password-22\nnew-password-22\n');
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /Changing password for user 'ivy'/);
  t.match(res.stdout, /Password changed successfully for user 'ivy'/);

  const mismatched = await run(['changepassword', 'ivy'], db.env, 'aaaaaaaa1\nbbbbbbbb1\naaaaaaaa2\nbbbbbbbb2\naaaaaaaa3\nbbbbbbbb3\n');
  t.equal(mismatched.code, 1);
  t.match(mismatched.stderr, /Passwords do not match\. Please try again\./);
  t.match(mismatched.stderr, /CommandError: Aborting password change for user 'ivy' after 3 attempts/);

  const unknown = await run(['changepassword', 'nobody'], db.env);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /CommandError: user 'nobody' does not exist/);

  const found = await lookUp([{ username: 'ivy', password: 'new-password-22' }, { username: 'ivy', password: 'good-password-1' }]);
  t.equal(found['ivy:new-password-22']!.logsIn, true, 'the new password works, and the failed attempts changed nothing');
  t.equal(found['ivy:good-password-1']!.logsIn, false);
});
