/**
 * The Library's serializers: the Books API's schemas and validation, derived from the entities.
 */
import { HyperlinkedIdentityField, ModelSerializer, NestedField, SlugRelatedField, ValidationError } from 'fastrest';
import { Author, Book } from './entities.ts';

/** True when `isbn` is 13 digits whose ISBN-13 check digit is right. */
export function isValidIsbn13(isbn: string): boolean {
  if (!/^[0-9]{13}$/.test(isbn)) return false;
  const sum = [...isbn.slice(0, 12)].reduce((acc, d, i) => acc + Number(d) * (i % 2 === 0 ? 1 : 3), 0);
  return (10 - (sum % 10)) % 10 === Number(isbn[12]);
}

/** An author as the API shows and takes them; the name is unique. */
export class AuthorSerializer extends ModelSerializer.for(Author, {
  fields: ['url', 'id', 'name', 'bio', 'birthYear'],
  declaredFields: { url: new HyperlinkedIdentityField({ viewName: 'author-detail', description: "The author's own URL." }) },
  readOnlyFields: ['id'],
  extraKwargs: {
    name: { description: "The author's name, as books show it." },
    bio: { description: 'A short biography (may be blank).' },
    birthYear: { description: 'The year the author was born, if known.', minimum: -3000 },
  },
}) {
  /** Rejects a birth year in the future. */
  validateBirthYear(value: number | null): number | null {
    if (value !== null && value > new Date().getUTCFullYear()) throw new ValidationError('Ensure this year is not in the future.');
    return value;
  }
}

/** The author of a book, as the book shows it: enough to name and follow them. */
export class AuthorSummarySerializer extends ModelSerializer.for(Author, {
  name: 'AuthorSummary',
  fields: ['id', 'name', 'url'],
  declaredFields: { url: new HyperlinkedIdentityField({ viewName: 'author-detail' }) },
}) {}

/**
 * A book as the API shows it; `isbn` must be a valid ISBN-13. `author` stays the author's name on
 * the wire, as before authors had their own API: a slug field that finds the author by name and
 * adds one not yet in the Library, so existing clients keep working. `authorDetail` shows the author.
 */
export class BookSerializer extends ModelSerializer.for(Book, {
  fields: ['url', 'id', 'title', 'subtitle', 'author', 'authorDetail', 'isbn', 'createdAt', 'updatedAt'],
  declaredFields: {
    url: new HyperlinkedIdentityField({ viewName: 'book-detail', description: "The book's own URL." }),
    author: new SlugRelatedField({ entity: Author, slugField: 'name', createIfMissing: true, description: "The author's name; an author not yet in the Library is added." }),
    authorDetail: new NestedField(AuthorSummarySerializer, { source: 'author', description: 'The author, with a link to them.' }),
  },
  readOnlyFields: ['id', 'createdAt', 'updatedAt'],
  extraKwargs: {
    title: { description: 'The title of the book.' },
    subtitle: { description: 'The subtitle, if any (may be blank).' },
    isbn: {
      label: 'ISBN',
      description: 'The ISBN-13: 13 digits, the last one a valid check digit.',
      pattern: '^[0-9]{13}$',
      examples: ['9780262033848'],
      errorMessages: { pattern: 'Enter a valid ISBN-13: exactly 13 digits.', maxLength: 'Enter a valid ISBN-13: exactly 13 digits.' },
    },
  },
}) {
  /** Rejects an ISBN-13 whose check digit is wrong. */
  validateIsbn(value: string): string {
    if (!isValidIsbn13(value)) throw new ValidationError('Enter a valid ISBN-13: the check digit is wrong.');
    return value;
  }
}
