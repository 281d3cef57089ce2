/**
 * The Library's API views.
 */
import type { FastifyRequest } from 'fastify';
import {
  action,
  and,
  FieldFilterBackend,
  IsAuthenticatedOrReadOnly,
  LimitOffsetPagination,
  many,
  ModelViewSet,
  OrderingFilter,
  SearchFilter,
  withMessage,
  type FilterFields,
  type OrderingFields,
  type Permission,
  type SearchFields,
  type SerializerOutput,
} from 'fastrest';
import { IsStaffToDelete } from './auth.ts';
import { Book } from './entities.ts';
import { AuthorSerializer, BookSerializer } from './serializers.ts';

/** Books of the Library: list and create them, read, change and delete one. */
export class BookViewSet extends ModelViewSet<BookSerializer> {
  readonly serializer = new BookSerializer();
  override description = 'Books of the Library: list and create them, read, change and delete one.';
  /** Anyone reads; members add and edit; only staff delete. */
  override permissionClasses: Permission[] = [and(new IsAuthenticatedOrReadOnly(), new IsStaffToDelete())];
  override filterBackends = [new FieldFilterBackend(), new SearchFilter(), new OrderingFilter()];
  override filterFields: FilterFields<BookSerializer> = {
    title: ['exact', 'iexact', 'icontains', 'istartswith'],
    author__name: ['exact', 'iexact', 'icontains'],
    isbn: ['exact', 'in'],
    createdAt: ['gte', 'lte', 'range', 'isnull'],
  };
  override searchFields: SearchFields<BookSerializer> = ['title', 'subtitle', 'author__name', '=isbn'];
  override orderingFields: OrderingFields<BookSerializer> = ['title', 'author__name', 'createdAt', 'id'];
  /** `?limit=&offset=` pages the list; without `limit` it stays the plain array it always was. */
  override pagination = new LimitOffsetPagination();
}

/** Authors of the Library, and each author's books at `/api/authors/{id}/books/`. */
export class AuthorViewSet extends ModelViewSet<AuthorSerializer> {
  readonly serializer = new AuthorSerializer();
  /** Shapes the books of the `books` action. */
  readonly bookSerializer = new BookSerializer();
  override description = 'Authors of the Library: list and add them, read, change and delete one, and list the books of one.';
  /** Anyone reads; members add and edit; only staff delete (an author who still has books cannot be deleted: 409). */
  override permissionClasses: Permission[] = [and(new IsAuthenticatedOrReadOnly(), withMessage(new IsStaffToDelete(), 'Only staff may delete authors.'))];
  override filterBackends = [new SearchFilter(), new OrderingFilter()];
  override searchFields: SearchFields<AuthorSerializer> = ['name'];
  override orderingFields: OrderingFields<AuthorSerializer> = ['name', 'birthYear', 'id'];
  override extraActions = [
    action({
      name: 'books',
      detail: true,
      response: many(this.bookSerializer),
      summary: "List an author's books",
      description: 'The books of one author, in the order they were added.',
      handler: (request) => this.books(request),
    }),
  ];

  /** The books of the author of this route (a missing author is a 404). */
  async books(request: FastifyRequest): Promise<SerializerOutput<BookSerializer>[]> {
    const author = (await this.getObject(request)) as { id: number };
    const rows = await request.em.find(Book, { author: author.id }, { orderBy: { id: 'asc' } });
    return (await this.represent(request, rows, this.bookSerializer)) as SerializerOutput<BookSerializer>[];
  }
}
