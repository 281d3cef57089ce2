/**
 * Sample authors and books given to an empty database, so a fresh `npm start` has something to show.
 */
import type { EntityManager } from '@mikro-orm/core';
import { Author, Book } from './entities.ts';

/** A few authors of classics of programming. */
export const sampleAuthors = [
  { name: 'Harold Abelson', bio: 'Professor of computer science at MIT, co-author of SICP.', birthYear: 1947 },
  { name: 'David Thomas', bio: 'Programmer and co-author of The Pragmatic Programmer.', birthYear: null },
  { name: 'Daniel Feldroy', bio: 'Python and Django developer, co-author of Two Scoops of Django.', birthYear: null },
  { name: 'Martin Kleppmann', bio: 'Researcher in distributed systems at the University of Cambridge.', birthYear: null },
  { name: 'Thomas H. Cormen', bio: 'Professor of computer science at Dartmouth College, co-author of CLRS.', birthYear: 1956 },
];

/** A few classics of programming, with valid ISBN-13s; `author` is the author's name. */
export const sampleBooks = [
  { title: 'Structure and Interpretation of Computer Programs', subtitle: 'Second Edition', author: 'Harold Abelson', isbn: '9780262510875' },
  { title: 'The Pragmatic Programmer', subtitle: 'Your Journey to Mastery', author: 'David Thomas', isbn: '9780135957059' },
  { title: 'Two Scoops of Django 3.x', subtitle: 'Best Practices for the Django Web Framework', author: 'Daniel Feldroy', isbn: '9781733172603' },
  { title: 'Designing Data-Intensive Applications', subtitle: '', author: 'Martin Kleppmann', isbn: '9781449373320' },
  { title: 'Introduction to Algorithms', subtitle: 'Third Edition', author: 'Thomas H. Cormen', isbn: '9780262033848' },
];

/** Book data as the API takes it: the author by name. */
export interface BookData {
  title: string;
  subtitle?: string;
  author: string;
  isbn: string;
  createdAt?: Date;
  updatedAt?: Date;
}

/**
 * Adds books whose `author` is a name, adding the authors not yet in the database (as the API
 * does); flushes once and returns the books.
 */
export async function addBooks(em: EntityManager, books: readonly BookData[]): Promise<Book[]> {
  const names = [...new Set(books.map((b) => b.author))];
  const known = new Map((await em.find(Author, { name: { $in: names } })).map((a) => [a.name, a]));
  const created = books.map((data) => {
    const author = known.get(data.author) ?? em.create(Author, { name: data.author });
    known.set(data.author, author);
    return em.create(Book, { ...data, author });
  });
  await em.flush();
  return created;
}

/** Adds the sample authors and books when there are no books at all; returns how many books were added. */
export async function seedIfEmpty(em: EntityManager): Promise<number> {
  if ((await em.count(Book, {})) > 0) return 0;
  for (const data of sampleAuthors) {
    if (!(await em.count(Author, { name: data.name }))) em.create(Author, data);
  }
  await em.flush();
  await addBooks(em, sampleBooks);
  return sampleBooks.length;
}
