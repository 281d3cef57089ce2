/**
 * The Library's entities, defined once with MikroORM's `defineEntity`: the database schema,
 * the migrations and (through the serializers) every API schema derive from these definitions.
 */
import { defineEntity, p, type InferEntity } from '@mikro-orm/core';

/** A book, as in DRF's beginners' tutorial. */
export const Book = defineEntity({
  name: 'Book',
  tableName: 'library_book',
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(250),
    subtitle: p.string().length(250).default(''),
    author: p.string().length(100),
    isbn: p.string().length(13).unique(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
  },
});

export type Book = InferEntity<typeof Book>;

/** Every entity of the app, in the order the ORM should discover them. */
export const entities = [Book];
