import { Migration } from '@mikro-orm/migrations';

export class Migration20261122055320 extends Migration {

  override name = 'Migration20261122055320';

  override up(): void | Promise<void> {
    this.addSql(`create table "library_book" ("id" serial primary key, "title" varchar(250) not null, "subtitle" varchar(250) not null default '', "author" varchar(100) not null, "isbn" varchar(13) not null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`alter table "library_book" add constraint "library_book_isbn_unique" unique ("isbn");`);
  }

  override down(): void | Promise<void> {
    this.addSql(`drop table if exists "library_book" cascade;`);
  }

}
