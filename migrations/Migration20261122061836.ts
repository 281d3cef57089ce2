import { Migration } from '@mikro-orm/migrations';

export class Migration20261122061836 extends Migration {

  override name = 'Migration20261122061836';

  override up(): void | Promise<void> {
    this.addSql(`create table "auth_group" ("id" serial primary key, "name" varchar(150) not null);`);
    this.addSql(`alter table "auth_group" add constraint "auth_group_name_unique" unique ("name");`);

    this.addSql(`create table "auth_permission" ("id" serial primary key, "codename" varchar(100) not null, "name" varchar(255) not null default '');`);
    this.addSql(`alter table "auth_permission" add constraint "auth_permission_codename_unique" unique ("codename");`);

    this.addSql(`create table "auth_group_permissions" ("group_id" int not null, "permission_id" int not null, primary key ("group_id", "permission_id"));`);

    this.addSql(`create table "auth_user" ("id" serial primary key, "username" varchar(150) not null, "email" varchar(254) not null default '', "password" varchar(255) not null, "is_active" boolean not null default true, "is_staff" boolean not null default false, "is_superuser" boolean not null default false, "date_joined" timestamptz not null, "last_login" timestamptz null);`);
    this.addSql(`alter table "auth_user" add constraint "auth_user_username_unique" unique ("username");`);

    this.addSql(`create table "authtoken_token" ("id" serial primary key, "key_hash" varchar(64) not null, "prefix" varchar(8) not null, "user_id" int not null, "created" timestamptz not null);`);
    this.addSql(`alter table "authtoken_token" add constraint "authtoken_token_key_hash_unique" unique ("key_hash");`);
    this.addSql(`create index "authtoken_token_user_id_index" on "authtoken_token" ("user_id");`);

    this.addSql(`create table "auth_session" ("key_hash" varchar(64) not null, "user_id" int not null, "auth_hash" varchar(64) not null, "expires_at" timestamptz not null, primary key ("key_hash"));`);
    this.addSql(`create index "auth_session_user_id_index" on "auth_session" ("user_id");`);
    this.addSql(`create index "auth_session_expires_at_index" on "auth_session" ("expires_at");`);

    this.addSql(`create table "library_readinglist" ("id" serial primary key, "name" varchar(100) not null, "description" varchar(500) not null default '', "is_public" boolean not null default false, "owner_id" int not null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`create index "library_readinglist_owner_id_index" on "library_readinglist" ("owner_id");`);

    this.addSql(`create table "library_readinglist_books" ("reading_list_id" int not null, "book_id" int not null, primary key ("reading_list_id", "book_id"));`);

    this.addSql(`create table "auth_user_user_permissions" ("user_id" int not null, "permission_id" int not null, primary key ("user_id", "permission_id"));`);

    this.addSql(`create table "auth_user_groups" ("user_id" int not null, "group_id" int not null, primary key ("user_id", "group_id"));`);

    this.addSql(`alter table "auth_group_permissions" add constraint "auth_group_permissions_group_id_foreign" foreign key ("group_id") references "auth_group" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "auth_group_permissions" add constraint "auth_group_permissions_permission_id_foreign" foreign key ("permission_id") references "auth_permission" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "authtoken_token" add constraint "authtoken_token_user_id_foreign" foreign key ("user_id") references "auth_user" ("id") on delete cascade;`);

    this.addSql(`alter table "auth_session" add constraint "auth_session_user_id_foreign" foreign key ("user_id") references "auth_user" ("id") on delete cascade;`);

    this.addSql(`alter table "library_readinglist" add constraint "library_readinglist_owner_id_foreign" foreign key ("owner_id") references "auth_user" ("id") on delete cascade;`);

    this.addSql(`alter table "library_readinglist_books" add constraint "library_readinglist_books_reading_list_id_foreign" foreign key ("reading_list_id") references "library_readinglist" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "library_readinglist_books" add constraint "library_readinglist_books_book_id_foreign" foreign key ("book_id") references "library_book" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "auth_user_user_permissions" add constraint "auth_user_user_permissions_user_id_foreign" foreign key ("user_id") references "auth_user" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "auth_user_user_permissions" add constraint "auth_user_user_permissions_permission_id_foreign" foreign key ("permission_id") references "auth_permission" ("id") on update cascade on delete cascade;`);

    this.addSql(`alter table "auth_user_groups" add constraint "auth_user_groups_user_id_foreign" foreign key ("user_id") references "auth_user" ("id") on update cascade on delete cascade;`);
    this.addSql(`alter table "auth_user_groups" add constraint "auth_user_groups_group_id_foreign" foreign key ("group_id") references "auth_group" ("id") on update cascade on delete cascade;`);
  }

  override down(): void | Promise<void> {
    this.addSql(`alter table "auth_group_permissions" drop constraint "auth_group_permissions_group_id_foreign";`);
    this.addSql(`alter table "auth_user_groups" drop constraint "auth_user_groups_group_id_foreign";`);
    this.addSql(`alter table "auth_group_permissions" drop constraint "auth_group_permissions_permission_id_foreign";`);
    this.addSql(`alter table "auth_user_user_permissions" drop constraint "auth_user_user_permissions_permission_id_foreign";`);
    this.addSql(`alter table "authtoken_token" drop constraint "authtoken_token_user_id_foreign";`);
    this.addSql(`alter table "auth_session" drop constraint "auth_session_user_id_foreign";`);
    this.addSql(`alter table "library_readinglist" drop constraint "library_readinglist_owner_id_foreign";`);
    this.addSql(`alter table "auth_user_user_permissions" drop constraint "auth_user_user_permissions_user_id_foreign";`);
    this.addSql(`alter table "auth_user_groups" drop constraint "auth_user_groups_user_id_foreign";`);
    this.addSql(`alter table "library_readinglist_books" drop constraint "library_readinglist_books_reading_list_id_foreign";`);

    this.addSql(`drop table if exists "auth_group" cascade;`);
    this.addSql(`drop table if exists "auth_permission" cascade;`);
    this.addSql(`drop table if exists "auth_group_permissions" cascade;`);
    this.addSql(`drop table if exists "auth_user" cascade;`);
    this.addSql(`drop table if exists "authtoken_token" cascade;`);
    this.addSql(`drop table if exists "auth_session" cascade;`);
    this.addSql(`drop table if exists "library_readinglist" cascade;`);
    this.addSql(`drop table if exists "library_readinglist_books" cascade;`);
    this.addSql(`drop table if exists "auth_user_user_permissions" cascade;`);
    this.addSql(`drop table if exists "auth_user_groups" cascade;`);
  }

}
