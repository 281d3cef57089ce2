/**
 * Management commands of the user model, as Django's: `createsuperuser` (prompts, or
 * `--noinput` with FASTREST_SUPERUSER_USERNAME / _EMAIL / _PASSWORD) and `changepassword <username>`.
 * Input and output are streams, so an app's CLI passes stdin/stdout and tests pass their own.
 */
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { Writable, type Readable } from 'node:stream';
import type { EntityManager } from '@mikro-orm/core';
import { passwordProblems } from './passwords.ts';
import { createSuperuser, findUser, setPassword } from './users.ts';

/** What a command reads and writes. */
export interface CommandIO {
  em: EntityManager;
  env: NodeJS.ProcessEnv;
  input: Readable & { isTTY?: boolean };
  output: Writable;
  error: Writable;
}

/** The names of the commands `runAuthCommand` knows. */
export const authCommands = ['createsuperuser', 'changepassword'] as const;

/** Prompts over a stream; typed passwords are not echoed on a terminal. */
class Prompter {
  readonly #output: Writable;
  readonly #lines: AsyncIterator<string>;
  readonly #close: () => void;
  #muted = false;

  constructor(input: CommandIO['input'], output: Writable) {
    this.#output = output;
    const echo = new Writable({
      write: (chunk, _encoding, done) => {
        if (!this.#muted) output.write(chunk);
        done();
      },
    });
    const rl = createInterface({ input, output: echo, terminal: Boolean(input.isTTY) });
    this.#lines = rl[Symbol.asyncIterator]();
    this.#close = () => rl.close();
  }

  /** Asks a question; `null` when the input has ended. */
  async ask(question: string, options: { secret?: boolean } = {}): Promise<string | null> {
    this.#output.write(question);
    this.#muted = Boolean(options.secret);
    const next = await this.#lines.next();
    this.#muted = false;
    if (options.secret) this.#output.write('\n');
    return next.done ? null : next.value;
  }

  close(): void {
    this.#close();
  }
}

function flag(args: readonly string[], name: string): string | undefined {
  const index = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (index === -1) return undefined;
  const arg = args[index]!;
  return arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[index + 1];
}

class CommandError extends Error {}

/** Runs `createsuperuser` or `changepassword`; answers the exit code. */
export async function runAuthCommand(command: string, args: readonly string[], io: CommandIO): Promise<number> {
  try {
    if (command === 'createsuperuser') await createSuperuserCommand(args, io);
    else if (command === 'changepassword') await changePasswordCommand(args, io);
    else throw new CommandError(`Unknown command: ${command}`);
    return 0;
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    io.error.write(`CommandError: ${error.message}\n`);
    return 1;
  }
}

async function askPassword(prompter: Prompter, io: CommandIO, username: string): Promise<string> {
  for (;;) {
    const password = await prompter.ask('Password: ', { secret: true });
    if (password === null) throw new CommandError('Aborted: the input ended.');
    const again = await prompter.ask('Password (again): ', { secret: true });
    if (again === null) throw new CommandError('Aborted: the input ended.');
    if (password !== again) {
      io.error.write("Error: Your passwords didn't match.\n");
      continue;
    }
    if (password.trim() === '') {
      io.error.write("Error: Blank passwords aren't allowed.\n");
      continue;
    }
    const problems = passwordProblems(password, username);
    if (problems.length) {
      for (const problem of problems) io.error.write(`${problem}\n`);
      continue;
    }
    return password;
  }
}

async function createSuperuserCommand(args: readonly string[], io: CommandIO): Promise<void> {
  const noInput = args.includes('--noinput') || args.includes('--no-input');
  let username = flag(args, 'username') ?? io.env['FASTREST_SUPERUSER_USERNAME'];
  let email = flag(args, 'email') ?? io.env['FASTREST_SUPERUSER_EMAIL'] ?? '';
  if (noInput) {
    if (!username) throw new CommandError('You must use --username with --noinput (or set FASTREST_SUPERUSER_USERNAME).');
    if (await findUser(io.em, username)) throw new CommandError('Error: That username is already taken.');
    const password = io.env['FASTREST_SUPERUSER_PASSWORD'] || null;
    if (password) {
      const problems = passwordProblems(password, username);
      if (problems.length) throw new CommandError(problems.join(' '));
    }
    await createSuperuser(io.em, { username, email, password });
    io.output.write('Superuser created successfully.\n');
    return;
  }
  const prompter = new Prompter(io.input, io.output);
  try {
    const fallback = safeOsUsername();
    while (!username) {
      const answer = await prompter.ask(fallback ? `Username (leave blank to use '${fallback}'): ` : 'Username: ');
      if (answer === null) throw new CommandError('Aborted: the input ended.');
      const candidate = answer.trim() || fallback;
      if (!candidate) {
        io.error.write('Error: This field cannot be blank.\n');
      } else if (!/^[\w.@+-]{1,150}$/.test(candidate)) {
        io.error.write('Error: Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.\n');
      } else if (await findUser(io.em, candidate)) {
        io.error.write('Error: That username is already taken.\n');
      } else {
        username = candidate;
      }
    }
    if (await findUser(io.em, username)) throw new CommandError('Error: That username is already taken.');
    if (!flag(args, 'email')) {
      const answer = await prompter.ask('Email address: ');
      if (answer === null) throw new CommandError('Aborted: the input ended.');
      email = answer.trim() || email;
    }
    const password = await askPassword(prompter, io, username);
    await createSuperuser(io.em, { username, email, password });
    io.output.write('Superuser created successfully.\n');
  } finally {
    prompter.close();
  }
}

async function changePasswordCommand(args: readonly string[], io: CommandIO): Promise<void> {
  const username = args.find((a) => !a.startsWith('--')) ?? safeOsUsername();
  if (!username) throw new CommandError('Give the username: changepassword <username>.');
  const user = await findUser(io.em, username);
  if (!user) throw new CommandError(`user '${username}' does not exist`);
  io.output.write(`Changing password for user '${username}'\n`);
  const prompter = new Prompter(io.input, io.output);
  try {
    for (let attempt = 1; attempt <= 3; attempt++) {
      const password = await prompter.ask('Password: ', { secret: true });
      const again = password === null ? null : await prompter.ask('Password (again): ', { secret: true });
      if (password === null || again === null) throw new CommandError('Aborted: the input ended.');
      if (password !== again) {
        io.error.write('Passwords do not match. Please try again.\n');
        continue;
      }
      const problems = passwordProblems(password, username);
      if (problems.length) {
        for (const problem of problems) io.error.write(`${problem}\n`);
        continue;
      }
      await setPassword(io.em, user, password);
      io.output.write(`Password changed successfully for user '${username}'\n`);
      return;
    }
    throw new CommandError(`Aborting password change for user '${username}' after 3 attempts`);
  } finally {
    prompter.close();
  }
}

function safeOsUsername(): string {
  try {
    const name = userInfo().username;
    return /^[\w.@+-]{1,150}$/.test(name) ? name : '';
  } catch {
    return '';
  }
}
