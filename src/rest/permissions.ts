/**
 * Permissions, as DRF's `permissions.py`: each answers "may this request go on" and, on item
 * routes, "may it touch this object". They compose with `and`, `or` and `not`; each may carry its
 * own 403 message. `allowedMethods` tells the browsable API and OPTIONS what a user may do.
 */
import type { FastifyRequest } from 'fastify';
import { hasPerms } from './auth/users.ts';
import { APIException, MethodNotAllowed, SetupError } from './exceptions.ts';
import { andThen, firstWhere } from './promises.ts';
import { hasUser, type APIView, type Permission } from './views.ts';

/** Methods that read only (DRF's `SAFE_METHODS`). */
export const SAFE_METHODS: readonly string[] = ['GET', 'HEAD', 'OPTIONS'];

/** Options every permission takes. */
export interface PermissionOptions {
  /** The 403 message when this permission refuses. */
  message?: string;
}

/**
 * Base class of permissions: override `hasPermission`, and define `hasObjectPermission` for checks
 * on one object (a permission without it does not take part in object checks).
 */
export abstract class BasePermission implements Permission {
  message: string | undefined;

  constructor(options: PermissionOptions = {}) {
    this.message = options.message;
  }

  /** Whether the request may go on. */
  hasPermission(_request: FastifyRequest, _view: APIView): boolean | Promise<boolean> {
    return true;
  }

  /** The 403 message for this request. */
  getMessage(_request: FastifyRequest): string | undefined {
    return this.message;
  }

  /** Whether an anonymous client may use `method` (OpenAPI lists no required security then). */
  allowsAnonymous(_method: string): boolean {
    return false;
  }

  /** What the browsable API shows about this permission, or null. */
  toHtml(_request: FastifyRequest, _view: APIView): { template: string; context: Record<string, unknown> } | null {
    return null;
  }
}

/** A permission instance, or a permission class taking no arguments. */
export type PermissionLike = Permission | (new () => Permission);

function instantiate(permission: PermissionLike): Permission {
  return typeof permission === 'function' ? new permission() : permission;
}

/** Every request. */
export class AllowAny extends BasePermission {
  override allowsAnonymous(): boolean {
    return true;
  }
}

/** Authenticated users only. */
export class IsAuthenticated extends BasePermission {
  override hasPermission(request: FastifyRequest): boolean {
    return hasUser(request);
  }
}

/** Staff users only (`isStaff`). */
export class IsAdminUser extends BasePermission {
  override hasPermission(request: FastifyRequest): boolean {
    return Boolean(request.user?.isStaff);
  }
}

/** Anyone may read; only authenticated users may write. */
export class IsAuthenticatedOrReadOnly extends BasePermission {
  override hasPermission(request: FastifyRequest): boolean {
    return SAFE_METHODS.includes(request.method) || hasUser(request);
  }

  override allowsAnonymous(method: string): boolean {
    return SAFE_METHODS.includes(method);
  }
}

/** Options of `IsOwner`. */
export interface IsOwnerOptions extends PermissionOptions {
  /** The object's property holding its owner (an entity, a reference or an id). Default `owner`. */
  ownerField?: string;
}

/** The object's owner only (an object-level check; every request passes `hasPermission`). */
export class IsOwner extends BasePermission {
  ownerField: string;

  constructor(options: IsOwnerOptions = {}) {
    super(options);
    this.ownerField = options.ownerField ?? 'owner';
  }

  hasObjectPermission(request: FastifyRequest, _view: APIView, object: object): boolean {
    const owner = (object as Record<string, unknown>)[this.ownerField];
    const ownerId = owner !== null && typeof owner === 'object' ? (owner as { id?: unknown }).id : owner;
    return request.user !== null && ownerId !== undefined && String(ownerId) === String(request.user.id);
  }
}

/** Options of `DjangoModelPermissions`. */
export interface ModelPermissionsOptions extends PermissionOptions {
  /** The app label of codenames; default: the table name's prefix (`library_book` -> `library`). */
  appLabel?: string;
  /** Codenames each method needs; `{app}` and `{model}` are filled in. */
  permsMap?: Readonly<Record<string, readonly string[]>>;
}

/** DRF's default map: writes need `add`, `change` or `delete` on the model; reads need nothing. */
export const defaultPermsMap: Readonly<Record<string, readonly string[]>> = Object.freeze({
  GET: [],
  OPTIONS: [],
  HEAD: [],
  POST: ['{app}.add_{model}'],
  PUT: ['{app}.change_{model}'],
  PATCH: ['{app}.change_{model}'],
  DELETE: ['{app}.delete_{model}'],
});

/**
 * Authenticated users holding the model permission a method needs (`library.add_book` for POST,
 * `library.change_book` for PUT and PATCH, `library.delete_book` for DELETE), directly or through a group.
 */
export class DjangoModelPermissions extends BasePermission {
  appLabel: string | undefined;
  permsMap: Readonly<Record<string, readonly string[]>>;
  /** Whether anonymous requests are refused even for methods that need no permission. */
  authenticatedUsersOnly = true;

  constructor(options: ModelPermissionsOptions = {}) {
    super(options);
    this.appLabel = options.appLabel;
    this.permsMap = options.permsMap ?? defaultPermsMap;
  }

  /** The codenames `method` needs on the view's model. */
  getRequiredPermissions(method: string, view: APIView): string[] {
    const templates = this.permsMap[method];
    if (!templates) throw new MethodNotAllowed(method);
    const meta = (view as { serializer?: { entity?: { meta?: { className?: string; tableName?: string } } } }).serializer?.entity?.meta;
    if (!meta?.className) {
      throw new SetupError('FASTREST_ERR_AUTH_CONFIG', `${this.constructor.name} needs a view with a model serializer, ${view.constructor.name} has none`);
    }
    const model = meta.className.toLowerCase();
    const app = this.appLabel ?? (meta.tableName?.includes('_') ? meta.tableName.split('_')[0]! : model);
    return templates.map((t) => t.replace('{app}', app).replace('{model}', model));
  }

  override async hasPermission(request: FastifyRequest, view: APIView): Promise<boolean> {
    if (!hasUser(request)) return !this.authenticatedUsersOnly && this.getRequiredPermissions(request.method, view).length === 0;
    return userHasPerms(request, this.getRequiredPermissions(request.method, view));
  }

  override allowsAnonymous(method: string): boolean {
    return !this.authenticatedUsersOnly && (this.permsMap[method]?.length ?? 1) === 0;
  }
}

/** DjangoModelPermissions, letting anonymous clients read. */
export class DjangoModelPermissionsOrAnonReadOnly extends DjangoModelPermissions {
  override authenticatedUsersOnly = false;
}

const permissionCache = new WeakMap<FastifyRequest, Map<string, Promise<boolean>>>();

/** Whether the request's user holds every codename, asked of the database once per request and set. */
export function userHasPerms(request: FastifyRequest, perms: readonly string[]): Promise<boolean> {
  const user = request.user;
  if (!user) return Promise.resolve(false);
  let cache = permissionCache.get(request);
  if (!cache) permissionCache.set(request, (cache = new Map()));
  const key = perms.join(',');
  let answer = cache.get(key);
  if (!answer) cache.set(key, (answer = hasPerms(request.em, user, perms)));
  return answer;
}

/** Base of `and`, `or` and `not`: keeps which operand refused each request, for its message. */
abstract class OperandHolder extends BasePermission {
  readonly operands: readonly Permission[];
  /** Set only when an operand has an object-level check. */
  declare hasObjectPermission?: (request: FastifyRequest, view: APIView, object: object) => Promise<boolean>;
  readonly #refusedBy = new WeakMap<FastifyRequest, Permission>();

  constructor(operands: readonly PermissionLike[], options: PermissionOptions) {
    super(options);
    this.operands = operands.map(instantiate);
  }

  protected refuse(request: FastifyRequest, by: Permission): false {
    this.#refusedBy.set(request, by);
    return false;
  }

  override getMessage(request: FastifyRequest): string | undefined {
    if (this.message !== undefined) return this.message;
    const by = this.#refusedBy.get(request);
    return by ? (by.getMessage?.(request) ?? by.message) : undefined;
  }
}

class AndPermission extends OperandHolder {
  constructor(operands: readonly PermissionLike[], options: PermissionOptions) {
    super(operands, options);
    if (this.operands.some((p) => p.hasObjectPermission)) {
      this.hasObjectPermission = async (request, view, object) => {
        for (const p of this.operands) {
          if (p.hasObjectPermission && !(await p.hasObjectPermission(request, view, object))) return this.refuse(request, p);
        }
        return true;
      };
    }
  }

  override hasPermission(request: FastifyRequest, view: APIView): boolean | Promise<boolean> {
    const refused = firstWhere(this.operands, (p) => p.hasPermission(request, view), (ok) => !ok);
    return andThen(refused, (found) => (found ? this.refuse(request, found.item) : true));
  }

  override allowsAnonymous(method: string): boolean {
    return this.operands.every((p) => p.allowsAnonymous?.(method) ?? false);
  }
}

class OrPermission extends OperandHolder {
  constructor(operands: readonly PermissionLike[], options: PermissionOptions) {
    super(operands, options);
    if (this.operands.some((p) => p.hasObjectPermission)) {
      // DRF's rule: an operand grants the object only if it also grants the request.
      this.hasObjectPermission = async (request, view, object) => {
        for (const p of this.operands) {
          if ((await p.hasPermission(request, view)) && (!p.hasObjectPermission || (await p.hasObjectPermission(request, view, object)))) return true;
        }
        return this.refuse(request, this.operands[this.operands.length - 1]!);
      };
    }
  }

  override hasPermission(request: FastifyRequest, view: APIView): boolean | Promise<boolean> {
    const granted = firstWhere(this.operands, (p) => p.hasPermission(request, view), (ok) => ok);
    return andThen(granted, (found) => (found ? true : this.refuse(request, this.operands[this.operands.length - 1]!)));
  }

  override allowsAnonymous(method: string): boolean {
    return this.operands.some((p) => p.allowsAnonymous?.(method) ?? false);
  }
}

class NotPermission extends OperandHolder {
  constructor(operand: PermissionLike, options: PermissionOptions) {
    super([operand], options);
    const inner = this.operands[0]!;
    if (inner.hasObjectPermission) {
      this.hasObjectPermission = async (request, view, object) => !(await inner.hasObjectPermission!(request, view, object));
    }
  }

  override hasPermission(request: FastifyRequest, view: APIView): boolean | Promise<boolean> {
    const allowed = this.operands[0]!.hasPermission(request, view);
    return andThen(allowed, (ok) => !ok);
  }

  override allowsAnonymous(): boolean {
    return false;
  }
}

/** Every operand must allow (DRF's `A & B`). */
export function and(...operands: PermissionLike[]): BasePermission {
  return new AndPermission(operands, {});
}

/** One operand must allow (DRF's `A | B`). */
export function or(...operands: PermissionLike[]): BasePermission {
  return new OrPermission(operands, {});
}

/** The operand must refuse (DRF's `~A`). An operand without an object check adds none. */
export function not(operand: PermissionLike): BasePermission {
  return new NotPermission(operand, {});
}

/** Gives a permission (composed or not) its own 403 message. */
export function withMessage<P extends BasePermission>(permission: P, message: string): P {
  permission.message = message;
  return permission;
}

/** The request as it would be with another method (DRF's `clone_request`). */
export function cloneRequest(request: FastifyRequest, method: string): FastifyRequest {
  return Object.create(request, { method: { value: method, enumerable: true } }) as FastifyRequest;
}

/**
 * The methods among `methods` this request's user may use on `view` (the browsable API's buttons
 * and forms, OPTIONS' `actions`). With `object`, the object-level checks of item routes run too.
 */
export async function allowedMethods(
  request: FastifyRequest,
  view: APIView,
  methods: readonly string[],
  options: { object?: (request: FastifyRequest) => Promise<unknown> } = {},
): Promise<string[]> {
  const allowed: string[] = [];
  for (const method of methods) {
    const clone = cloneRequest(request, method);
    try {
      await view.checkPermissions(clone);
      if (options.object) await options.object(clone);
      allowed.push(method);
    } catch (error) {
      if (!(error instanceof APIException)) throw error;
    }
  }
  return allowed;
}
