/**
 * The Library's serializers: the Books API's schemas and validation, derived from the entities.
 */
import { ModelSerializer, ValidationError } from '../rest/index.ts';
import { Book } from './entities.ts';

/** True when `isbn` is 13 digits whose ISBN-13 check digit is right. */
export function isValidIsbn13(isbn: string): boolean {
  if (!/^[0-9]{13}$/.test(isbn)) return false;
  const sum = [...isbn.slice(0, 12)].reduce((acc, d, i) => acc + Number(d) * (i % 2 === 0 ? 1 : 3), 0);
  return (10 - (sum % 10)) % 10 === Number(isbn[12]);
}

/** A book as the API shows it; `isbn` must be a valid ISBN-13. */
export class BookSerializer extends ModelSerializer.for(Book, {
  fields: ['id', 'title', 'subtitle', 'author', 'isbn', 'createdAt', 'updatedAt'],
  readOnlyFields: ['id', 'createdAt', 'updatedAt'],
  extraKwargs: {
    title: { description: 'The title of the book.' },
    subtitle: { description: 'The subtitle, if any (may be blank).' },
    author: { description: "The author's name." },
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
