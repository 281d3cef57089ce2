/**
 * Sample books given to an empty database, so a fresh `npm start` has something to show.
 */
import type { EntityManager } from '@mikro-orm/core';
import { Book } from './entities.ts';

/** A few classics of programming, with valid ISBN-13s. */
export const sampleBooks = [
  { title: 'Structure and Interpretation of Computer Programs', subtitle: 'Second Edition', author: 'Harold Abelson', isbn: '9780262510875' },
  { title: 'The Pragmatic Programmer', subtitle: 'Your Journey to Mastery', author: 'David Thomas', isbn: '9780135957059' },
  { title: 'Two Scoops of Django 3.x', subtitle: 'Best Practices for the Django Web Framework', author: 'Daniel Feldroy', isbn: '9781733172603' },
  { title: 'Designing Data-Intensive Applications', subtitle: '', author: 'Martin Kleppmann', isbn: '9781449373320' },
  { title: 'Introduction to Algorithms', subtitle: 'Third Edition', author: 'Thomas H. Cormen', isbn: '9780262033848' },
];

/** Adds the sample books when there are no books at all; returns how many were added. */
export async function seedIfEmpty(em: EntityManager): Promise<number> {
  if ((await em.count(Book, {})) > 0) return 0;
  for (const data of sampleBooks) em.create(Book, data);
  await em.flush();
  return sampleBooks.length;
}
