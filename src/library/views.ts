/**
 * The Library's API views.
 */
import { and, FieldFilterBackend, IsAuthenticatedOrReadOnly, LimitOffsetPagination, ModelViewSet, OrderingFilter, SearchFilter, type FilterFields, type OrderingFields, type Permission, type SearchFields } from '../rest/index.ts';
import { IsStaffToDelete } from './auth.ts';
import { BookSerializer } from './serializers.ts';

/** Books of the Library: list and create them, read, change and delete one. */
export class BookViewSet extends ModelViewSet<BookSerializer> {
  readonly serializer = new BookSerializer();
  override description = 'Books of the Library: list and create them, read, change and delete one.';
  /** Anyone reads; members add and edit; only staff delete. */
  override permissionClasses: Permission[] = [and(new IsAuthenticatedOrReadOnly(), new IsStaffToDelete())];
  override filterBackends = [new FieldFilterBackend(), new SearchFilter(), new OrderingFilter()];
  override filterFields: FilterFields<BookSerializer> = {
    title: ['exact', 'iexact', 'icontains', 'istartswith'],
    author: ['exact', 'iexact', 'icontains'],
    isbn: ['exact', 'in'],
    createdAt: ['gte', 'lte', 'range', 'isnull'],
  };
  override searchFields: SearchFields<BookSerializer> = ['title', 'subtitle', 'author', '=isbn'];
  override orderingFields: OrderingFields<BookSerializer> = ['title', 'author', 'createdAt', 'id'];
  /** `?limit=&offset=` pages the list; without `limit` it stays the plain array it always was. */
  override pagination = new LimitOffsetPagination();
}
