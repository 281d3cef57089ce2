/**
 * The user model of fastrest, as Django's `contrib.auth` and DRF's `authtoken`: users, groups,
 * model permissions (`library.add_book`), API tokens (stored as SHA-256 hashes) and log-in
 * sessions (stored by the hash of their key). An app lists `authEntities` among its entities.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** A permission codename such as `library.add_book`, granted to users directly or through groups. */
export const Permission = defineEntity({
  name: 'Permission',
  tableName: 'auth_permission',
  properties: {
    id: p.integer().primary().autoincrement(),
    codename: p.string().length(100).unique(),
    name: p.string().length(255).default(''),
  },
});
export type Permission = InferEntity<typeof Permission>;

/** A named set of permissions; a user has every permission of every group they belong to. */
export const Group = defineEntity({
  name: 'Group',
  tableName: 'auth_group',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(150).unique(),
    permissions: p.manyToMany(Permission).pivotTable('auth_group_permissions'),
  },
});
export type Group = InferEntity<typeof Group>;

/** A user account: credentials, the three flags of Django's user and its permissions. */
export const User = defineEntity({
  name: 'User',
  tableName: 'auth_user',
  properties: {
    id: p.integer().primary().autoincrement(),
    username: p.string().length(150).unique(),
    email: p.string().length(254).default(''),
    /** `scrypt$N$r$p$salt$hash`, or `!...` for an unusable password. */
    password: p.string().length(255).hidden(),
    isActive: p.boolean().default(true),
    isStaff: p.boolean().default(false),
    isSuperuser: p.boolean().default(false),
    dateJoined: p.datetime().onCreate(() => new Date()),
    lastLogin: p.datetime().nullable(),
    groups: p.manyToMany(Group).pivotTable('auth_user_groups'),
    userPermissions: p.manyToMany(Permission).pivotTable('auth_user_user_permissions'),
  },
});
export type User = InferEntity<typeof User>;

/** An API token: only the SHA-256 of its key is stored; the key is shown once, when it is made. */
export const Token = defineEntity({
  name: 'Token',
  tableName: 'authtoken_token',
  properties: {
    id: p.integer().primary().autoincrement(),
    keyHash: p.string().length(64).unique(),
    /** The first characters of the key, so a user can tell their tokens apart. */
    prefix: p.string().length(8),
    user: p.manyToOne(User).deleteRule('cascade').index(),
    created: p.datetime().onCreate(() => new Date()),
  },
});
export type Token = InferEntity<typeof Token>;

/** A log-in session: the hash of the key its cookie carries, its user and when it ends. */
export const Session = defineEntity({
  name: 'Session',
  tableName: 'auth_session',
  properties: {
    keyHash: p.string().length(64).primary(),
    user: p.manyToOne(User).deleteRule('cascade').index(),
    /** Ties the session to the password it was opened with: changing the password ends it. */
    authHash: p.string().length(64),
    expiresAt: p.datetime().index(),
  },
});
export type Session = InferEntity<typeof Session>;

/** Every entity of the user model, to add to an app's entity list. */
export const authEntities = [Permission, Group, User, Token, Session];
