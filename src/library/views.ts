/**
 * The Library's API views.
 */
import type { SqlEntityManager } from '@mikro-orm/sql';
import type { FastifyRequest } from 'fastify';
import {
  action,
  and,
  FieldFilterBackend,
  IsAuthenticatedOrReadOnly,
  ModelViewSet,
  OrderingFilter,
  paginated,
  paginatedList,
  SearchFilter,
  withMessage,
  type FilterFields,
  type OrderingFields,
  type Page,
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
      response: paginated(this.bookSerializer),
      summary: "List an author's books",
      description: 'The books of one author, in the order they were added.',
      handler: (request) => this.books(request),
    }),
  ];

  /** One page of the books of the author of this route (a missing author is a 404). */
  async books(request: FastifyRequest): Promise<Page<SerializerOutput<BookSerializer>>> {
    const author = (await this.getObject(request)) as { id: number };
    const qb = (request.em as SqlEntityManager).createQueryBuilder(Book).where({ author: author.id }).orderBy({ id: 'asc' });
    return (await paginatedList(this, request, qb, this.bookSerializer)) as Page<SerializerOutput<BookSerializer>>;
  }
}
