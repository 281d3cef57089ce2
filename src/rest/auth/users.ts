/**
 * What the user model does: create users, check credentials, set passwords, answer which
 * permissions a user has (directly, through groups, or all of them as a superuser), issue and
 * revoke API tokens, open and close log-in sessions. Plain functions over an EntityManager.
 */
import { createHmac, hash, randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/core';
import { findOneWithRelated, findRowWithRelated, mergeJoinedRow, type Row } from '../orm.ts';
import { dummyHash, hashPassword, needsRehash, unusablePassword, verifyPassword } from './passwords.ts';
import { Group, Permission, Session, Token, User } from './models.ts';

/** What `createUser` needs; the password may be left out for an account that cannot log in yet. */
export interface NewUser {
  username: string;
  email?: string;
  password?: string | null;
  isActive?: boolean;
  isStaff?: boolean;
  isSuperuser?: boolean;
}

/** SHA-256 in hex: how token and session keys are stored. */
export function sha256(value: string): string {
  return hash('sha256', value, 'hex');
}

/** Creates and saves a user with a hashed password. */
export async function createUser(em: EntityManager, data: NewUser): Promise<User> {
  const password = data.password ? await hashPassword(data.password) : unusablePassword();
  const user = em.create(User, {
    username: data.username,
    email: data.email ?? '',
    password,
    isActive: data.isActive ?? true,
    isStaff: data.isStaff ?? false,
    isSuperuser: data.isSuperuser ?? false,
  } as never);
  await em.flush();
  return user;
}

/** Creates a staff superuser, as `createsuperuser` does. */
export function createSuperuser(em: EntityManager, data: Omit<NewUser, 'isStaff' | 'isSuperuser'>): Promise<User> {
  return createUser(em, { ...data, isStaff: true, isSuperuser: true });
}

/** Finds a user by username (exact match, as Django's default). */
export function findUser(em: EntityManager, username: string): Promise<User | null> {
  return em.findOne(User, { username });
}

/** Changes a user's password and saves it; every session opened with the old one ends. */
export async function setPassword(em: EntityManager, user: User, password: string): Promise<void> {
  user.password = await hashPassword(password);
  await em.flush();
  await em.nativeDelete(Session, { user: user.id });
}

/**
 * The user whose username and password these are, whether active or not, or `null`. An unknown
 * username takes as long as a wrong password. A hash made with old parameters is upgraded.
 */
export async function checkCredentials(em: EntityManager, username: string, password: string): Promise<User | null> {
  const user = await findUser(em, username);
  if (!user) {
    await dummyHash(password);
    return null;
  }
  if (!(await verifyPassword(password, user.password))) return null;
  if (needsRehash(user.password)) {
    user.password = await hashPassword(password);
    await em.flush();
  }
  return user;
}

/** Records a successful log-in. */
export async function touchLastLogin(em: EntityManager, user: User): Promise<void> {
  user.lastLogin = new Date();
  await em.flush();
}

/** Permission codenames of a user, directly granted or through their groups (superusers: see `hasPerms`). */
export async function permissionsOf(em: EntityManager, userId: number | string): Promise<Set<string>> {
  const rows: { codename: string }[] = await em.getConnection().execute(
    `select p.codename from auth_permission p join auth_user_user_permissions up on up.permission_id = p.id where up.user_id = ?
     union
     select p.codename from auth_permission p join auth_group_permissions gp on gp.permission_id = p.id
       join auth_user_groups ug on ug.group_id = gp.group_id where ug.user_id = ?`,
    [userId, userId],
    'all',
  );
  return new Set(rows.map((row) => row.codename));
}

/** Whether an active user holds every one of `perms`; an active superuser holds them all. */
export async function hasPerms(
  em: EntityManager,
  user: { id: number | string; isActive: boolean; isSuperuser: boolean },
  perms: readonly string[],
): Promise<boolean> {
  if (!user.isActive) return false;
  if (user.isSuperuser || perms.length === 0) return true;
  const held = await permissionsOf(em, user.id);
  return perms.every((perm) => held.has(perm));
}

/** The permission row of a codename, made if missing (`Can add book` from `library.add_book`). */
export async function ensurePermission(em: EntityManager, codename: string): Promise<Permission> {
  const existing = await em.findOne(Permission, { codename });
  if (existing) return existing;
  const [, action = '', model = ''] = /^[^.]+\.([a-z]+)_(.+)$/.exec(codename) ?? [];
  const permission = em.create(Permission, { codename, name: action ? `Can ${action} ${model.replace(/_/g, ' ')}` : codename } as never);
  await em.flush();
  return permission;
}

/** Grants permissions to a user or a group. */
export async function grantPermissions(em: EntityManager, holder: User | Group, codenames: readonly string[]): Promise<void> {
  const collection = 'userPermissions' in holder ? holder.userPermissions : holder.permissions;
  await collection.init();
  for (const codename of codenames) collection.add(await ensurePermission(em, codename));
  await em.flush();
}

/** Finds or creates a group by name. */
export async function ensureGroup(em: EntityManager, name: string): Promise<Group> {
  const group = (await em.findOne(Group, { name })) ?? em.create(Group, { name } as never);
  await em.flush();
  return group;
}

/** Puts a user in groups. */
export async function addToGroups(em: EntityManager, user: User, groups: readonly Group[]): Promise<void> {
  await user.groups.init();
  for (const group of groups) user.groups.add(group);
  await em.flush();
}

/** A token key as DRF makes them: 40 hexadecimal characters. */
export const TOKEN_KEY_PATTERN = /^[0-9a-f]{40}$/;

/** Issues a token; the key is returned once and only its hash is stored. */
export async function createToken(em: EntityManager, user: User): Promise<{ key: string; token: Token }> {
  const key = randomBytes(20).toString('hex');
  const token = em.create(Token, { keyHash: sha256(key), prefix: key.slice(0, 8), user } as never);
  await em.flush();
  return { key, token };
}

/** The token of a key, with its user loaded (one query joining both), or `null`. */
export async function findToken(em: EntityManager, key: string): Promise<Token | null> {
  if (!TOKEN_KEY_PATTERN.test(key)) return null;
  return findOneWithRelated<Token>(em, Token, { keyHash: sha256(key) }, 'user');
}

/** What `findTokenRow` answers: the token's columns by property, `user` the User entity. */
export type TokenRow = Pick<Token, 'id' | 'keyHash' | 'prefix' | 'created'> & { user: User };

/** `findToken` without making the Token entity (one query; the user is the User entity), or `null`. */
export async function findTokenRow(em: EntityManager, key: string): Promise<TokenRow | null> {
  if (!TOKEN_KEY_PATTERN.test(key)) return null;
  return findOneWithRelated<TokenRow>(em, Token, { keyHash: sha256(key) }, 'user', { row: true });
}

/**
 * The token of a key and its user as rows by property, read directly without making an entity or
 * forking `em` (`make` merges the user into an EntityManager), `null` when there is none, and
 * `undefined` when the read cannot be direct (then use `findTokenRow`).
 */
export async function readTokenRows(em: EntityManager, key: string): Promise<{ token: Row; user: Row | null; make(into: EntityManager): User } | null | undefined> {
  if (!TOKEN_KEY_PATTERN.test(key)) return null;
  const found = await findRowWithRelated(em, Token, { keyHash: sha256(key) }, 'user');
  if (!found) return found;
  const { own: token, related: user, target } = found;
  return { token, user, make: (into) => mergeJoinedRow<User>(into, target, user!) };
}

/** Revokes one token (an entity or a `TokenRow`), or every token of a user; returns how many were revoked. */
export async function revokeTokens(em: EntityManager, target: { token: Pick<Token, 'id'> } | { user: User }): Promise<number> {
  if ('token' in target) return em.nativeDelete(Token, { id: target.token.id });
  return em.nativeDelete(Token, { user: target.user.id });
}

/** The value that ties a session to the password it was opened with (Django's session auth hash). */
export function sessionAuthHash(secret: string, user: User): string {
  return createHmac('sha256', secret).update(`fastrest.session:${user.password}`).digest('hex');
}

/** Opens a session for a user and returns the key its cookie carries; expired sessions of the user are cleared. */
export async function openSession(em: EntityManager, user: User, secret: string, maxAgeSeconds: number): Promise<string> {
  const key = randomBytes(32).toString('base64url');
  await em.nativeDelete(Session, { user: user.id, expiresAt: { $lte: new Date() } });
  em.create(Session, { keyHash: sha256(key), user, authHash: sessionAuthHash(secret, user), expiresAt: new Date(Date.now() + maxAgeSeconds * 1000) } as never);
  await em.flush();
  return key;
}

/** The user of a live session whose password has not changed since, or `null`. */
export async function sessionUser(em: EntityManager, key: string, secret: string): Promise<User | null> {
  const session = await em.findOne(Session, { keyHash: sha256(key), expiresAt: { $gt: new Date() } }, { populate: ['user'] });
  if (!session) return null;
  const user = session.user as unknown as User;
  return session.authHash === sessionAuthHash(secret, user) ? user : null;
}

/** Ends a session. */
export async function closeSession(em: EntityManager, key: string): Promise<void> {
  await em.nativeDelete(Session, { keyHash: sha256(key) });
}
