/**
 * Password hashing with Node's scrypt: a random salt per password, the cost parameters stored
 * beside the hash (`scrypt$N$r$p$salt$hash`) so they can be raised later, and a timing-safe compare.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** Cost parameters of new hashes (scrypt's interactive-login choice): about 70 ms and 16 MiB on one core here. */
export const scryptParameters = { N: 2 ** 14, r: 8, p: 1, keyLength: 32 } as const;

/** Prefix of a password that can never match (users made without one, as Django's `set_unusable_password`). */
export const UNUSABLE_PASSWORD_PREFIX = '!';

function derive(password: string, salt: Buffer, N: number, r: number, p: number, keyLength: number): Promise<Buffer> {
  const options: ScryptOptions = { N, r, p, maxmem: 128 * N * r * 2 };
  return new Promise((resolve, reject) => scrypt(password.normalize('NFKC'), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))));
}

/** Hashes a password for storage. */
export async function hashPassword(password: string): Promise<string> {
  const { N, r, p, keyLength } = scryptParameters;
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, r, p, keyLength);
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** A stored value that no password matches. */
export function unusablePassword(): string {
  return `${UNUSABLE_PASSWORD_PREFIX}${randomBytes(24).toString('base64url')}`;
}

/** Whether `password` matches `encoded`; an unusable or malformed value matches nothing. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') {
    await dummyHash(password);
    return false;
  }
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  const expected = Buffer.from(parts[5]!, 'base64');
  if (![N, r, p].every(Number.isSafeInteger) || expected.length === 0) return false;
  const actual = await derive(password, Buffer.from(parts[4]!, 'base64'), N, r, p, expected.length);
  return timingSafeEqual(actual, expected);
}

/** Whether a stored hash was made with weaker parameters than today's (rehash on the next log-in). */
export function needsRehash(encoded: string): boolean {
  const [algorithm, N, r, p] = encoded.split('$');
  return algorithm === 'scrypt' && (Number(N) !== scryptParameters.N || Number(r) !== scryptParameters.r || Number(p) !== scryptParameters.p);
}

/** Spends the time of one hash, so an unknown username answers as slowly as a wrong password. */
export async function dummyHash(password: string): Promise<void> {
  const { N, r, p, keyLength } = scryptParameters;
  await derive(password, Buffer.alloc(16), N, r, p, keyLength);
}

/** Django's default validators, in short: at least 8 characters, not all digits, not the username. */
export function passwordProblems(password: string, username = ''): string[] {
  const problems: string[] = [];
  if (password.length < 8) problems.push('This password is too short. It must contain at least 8 characters.');
  if (/^[0-9]+$/.test(password)) problems.push('This password is entirely numeric.');
  if (username && password.toLowerCase() === username.toLowerCase()) problems.push('The password is too similar to the username.');
  return problems;
}
