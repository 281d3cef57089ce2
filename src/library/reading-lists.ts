/**
 * Reading lists: a per-user resource. A member sees their own lists and the lists others made
 * public, and changes only their own; staff see and change every list. The queryset hides the
 * rest (404, as DRF), the object-level permission refuses changes to others' public lists (403).
 */
import type { FastifyRequest } from 'fastify';
import {
  BasePermission,
  HyperlinkedIdentityField,
  IsAdminUser,
  IsAuthenticated,
  IsOwner,
  ModelSerializer,
  ModelViewSet,
  or,
  SAFE_METHODS,
  SlugRelatedField,
  User,
  withMessage,
  type AnyQueryBuilder,
  type APIView,
  type Permission,
} from 'fastrest';
import { ReadingList } from './entities.ts';

/** A reading list as the API shows it; the owner is whoever creates it. */
export class ReadingListSerializer extends ModelSerializer.for(ReadingList, {
  fields: ['url', 'id', 'name', 'description', 'isPublic', 'owner', 'createdAt', 'updatedAt'],
  declaredFields: {
    url: new HyperlinkedIdentityField({ viewName: 'readinglist-detail', description: "The list's own URL." }),
    owner: new SlugRelatedField({ entity: User, slugField: 'username', readOnly: true, description: 'The member who keeps the list.' }),
  },
  readOnlyFields: ['id', 'createdAt', 'updatedAt'],
  extraKwargs: {
    name: { description: 'The name of the list.' },
    description: { description: 'What the list is for (may be blank).' },
    isPublic: { label: 'Public', description: 'Whether other members may see (but not change) the list.' },
  },
}) {}

/** Object-level: a public list may be read by anyone who can see it. */
export class IsPublicAndReadOnly extends BasePermission {
  hasObjectPermission(request: FastifyRequest, _view: APIView, object: object): boolean {
    return SAFE_METHODS.includes(request.method) && (object as { isPublic?: boolean }).isPublic === true;
  }
}

/** Members' reading lists at `/api/reading-lists/`. */
export class ReadingListViewSet extends ModelViewSet<ReadingListSerializer> {
  readonly serializer = new ReadingListSerializer();
  override description = 'Reading lists: yours, and the ones other members made public (read-only). Staff see every list.';
  override permissionClasses: Permission[] = [
    new IsAuthenticated(),
    withMessage(or(new IsAdminUser(), new IsOwner(), new IsPublicAndReadOnly()), 'You may only change your own reading lists.'),
  ];

  /** Staff: every list; members: their own and the public ones. */
  override getQueryset(request: FastifyRequest): AnyQueryBuilder {
    const qb = super.getQueryset(request);
    const user = request.user;
    if (user?.isStaff) return qb;
    return qb.andWhere({ $or: [{ owner: user?.id ?? null }, { isPublic: true }] });
  }

  /** The list belongs to whoever creates it (DRF's `perform_create` with `owner=request.user`). */
  override async performCreate(request: FastifyRequest, data: Record<string, unknown>): Promise<object> {
    return this.getSerializer(request).create(request.em, { ...data, owner: request.user!.id } as never);
  }
}
