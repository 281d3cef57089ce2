/**
 * The Library's API views.
 */
import { ModelViewSet } from '../rest/index.ts';
import { BookSerializer } from './serializers.ts';

/** Books of the Library: list and create them, read, change and delete one. */
export class BookViewSet extends ModelViewSet<BookSerializer> {
  readonly serializer = new BookSerializer();
  override description = 'Books of the Library: list and create them, read, change and delete one.';
}
