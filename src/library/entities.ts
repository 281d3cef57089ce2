/**
 * The Library's entities, defined once with MikroORM's `defineEntity`: the database schema,
 * the migrations and (through the serializers) every API schema derive from these definitions.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { authEntities, User } from 'fastrest';

/** An author of books; the name identifies them (books refer to their author by name on the wire). */
export const Author = defineEntity({
  name: 'Author',
  tableName: 'library_author',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(100).unique(),
    bio: p.text().default(''),
    birthYear: p.integer().nullable(),
  },
});

export type Author = InferEntity<typeof Author>;

/** A book, as in DRF's beginners' tutorial; its author is an `Author` since the authors API. */
export const Book = defineEntity({
  name: 'Book',
  tableName: 'library_book',
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(250),
    subtitle: p.string().length(250).default(''),
    author: p.manyToOne(Author).index(),
    isbn: p.string().length(13).unique(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

export type Book = InferEntity<typeof Book>;

/** A member's named list of books, private unless made public (served by ./reading-lists.ts). */
export const ReadingList = defineEntity({
  name: 'ReadingList',
  tableName: 'library_readinglist',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(100),
    description: p.string().length(500).default(''),
    isPublic: p.boolean().default(false),
    owner: p.manyToOne(User).deleteRule('cascade').index(),
    books: p.manyToMany(Book).pivotTable('library_readinglist_books'),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

export type ReadingList = InferEntity<typeof ReadingList>;

/** Every entity of the app, in the order the ORM should discover them; the user model comes from fastrest. */
export const entities = [Author, Book, ReadingList, ...authEntities];
