import { Migration } from '@mikro-orm/migrations';

/**
 * Authors get their own table and a book refers to its author: every distinct author name of the
 * existing books becomes an author (in the order the names first appear), each book points to
 * its author, then the old name column goes. `down()` puts the names back before dropping authors.
 */
export class Migration20261122062250 extends Migration {

  override name = 'Migration20261122062250';

  override up(): void | Promise<void> {
    this.addSql(`create table "library_author" ("id" serial primary key, "name" varchar(100) not null, "bio" text not null default '', "birth_year" int null);`);
    this.addSql(`alter table "library_author" add constraint "library_author_name_unique" unique ("name");`);

    this.addSql(`insert into "library_author" ("name") select "author" from "library_book" group by "author" order by min("id");`);
    this.addSql(`alter table "library_book" add "author_id" int null;`);
    this.addSql(`update "library_book" set "author_id" = "library_author"."id" from "library_author" where "library_author"."name" = "library_book"."author";`);
    this.addSql(`alter table "library_book" alter column "author_id" set not null;`);
    this.addSql(`alter table "library_book" add constraint "library_book_author_id_foreign" foreign key ("author_id") references "library_author" ("id");`);
    this.addSql(`create index "library_book_author_id_index" on "library_book" ("author_id");`);
    this.addSql(`alter table "library_book" drop column "author";`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "library_book" add "author" varchar(100) null;`);
    this.addSql(`update "library_book" set "author" = "library_author"."name" from "library_author" where "library_author"."id" = "library_book"."author_id";`);
    this.addSql(`alter table "library_book" alter column "author" set not null;`);

    this.addSql(`alter table "library_book" drop constraint "library_book_author_id_foreign";`);
    this.addSql(`drop index "library_book_author_id_index";`);
    this.addSql(`alter table "library_book" drop column "author_id";`);

    this.addSql(`drop table if exists "library_author" cascade;`);
  }

}
