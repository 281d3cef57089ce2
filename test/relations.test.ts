import { defineEntity, p } from '@mikro-orm/core';
import Fastify from 'fastify';
import t, { type Test } from 'tap';
import {
  DefaultRouter,
  fastrest,
  HyperlinkedIdentityField,
  HyperlinkedRelatedField,
  ModelSerializer,
  ModelViewSet,
  NestedField,
  PageNumberPagination,
  PrimaryKeyRelatedField,
  serverOptions,
  SetupError,
  SlugRelatedField,
  ValidationError,
} from '../src/rest/index.ts';
import type { FastifyRequest } from 'fastify';
import { entitiesApp } from './helpers.ts';

/** DRF's relations guide uses albums and tracks; artists add a unique name to find them by. */
const Artist = defineEntity({
  name: 'Artist',
  tableName: 'rel_artist',
  properties: {
    id: p.integer().primary().autoincrement(),
    name: p.string().length(50).unique(),
    country: p.string().length(2).default(''),
  },
});
const Album = defineEntity({
  name: 'Album',
  tableName: 'rel_album',
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(100),
    artist: () => p.manyToOne(Artist),
    tracks: () => p.oneToMany(Track).mappedBy('album'),
  },
});
const Track = defineEntity({
  name: 'Track',
  tableName: 'rel_track',
  properties: {
    id: p.integer().primary().autoincrement(),
    title: p.string().length(100),
    duration: p.integer().default(0),
    album: () => p.manyToOne(Album).nullable(),
  },
});

class ArtistSerializer extends ModelSerializer.for(Artist, { fields: '__all__' }) {}

class TrackSummarySerializer extends ModelSerializer.for(Track, { name: 'TrackSummary', fields: ['id', 'title', 'duration'] }) {}

/** Every way of showing a relation, read-only, on one album. */
class AlbumSerializer extends ModelSerializer.for(Album, {
  fields: ['url', 'id', 'title', 'artist', 'artistName', 'artistUrl', 'artistDetail', 'tracks', 'trackIds'],
  declaredFields: {
    url: new HyperlinkedIdentityField({ viewName: 'album-detail' }),
    artistName: new SlugRelatedField({ entity: Artist, slugField: 'name', source: 'artist', readOnly: true }),
    artistUrl: new HyperlinkedRelatedField({ entity: Artist, viewName: 'artist-detail', source: 'artist', readOnly: true }),
    artistDetail: new NestedField(ArtistSerializer, { source: 'artist' }),
    tracks: new NestedField(TrackSummarySerializer, { many: true }),
    trackIds: new PrimaryKeyRelatedField({ entity: Track, source: 'tracks', many: true }),
  },
}) {}

/** A track's album as its primary key, the default for a listed relation. */
class TrackSerializer extends ModelSerializer.for(Track, { fields: ['id', 'title', 'duration', 'album'] }) {}

/** A track's album as its URL. */
class LinkedTrackSerializer extends ModelSerializer.for(Track, {
  name: 'LinkedTrack',
  fields: ['id', 'title', 'album'],
  declaredFields: { album: new HyperlinkedRelatedField({ entity: Album, viewName: 'album-detail' }) },
}) {}

/** An album's artist by name; a name not yet known is refused. */
class SlugAlbumSerializer extends ModelSerializer.for(Album, {
  name: 'SlugAlbum',
  fields: ['id', 'title', 'artist'],
  declaredFields: { artist: new SlugRelatedField({ entity: Artist, slugField: 'name' }) },
}) {}

/** An album's artist by name; a name not yet known adds the artist. */
class AddingAlbumSerializer extends ModelSerializer.for(Album, {
  name: 'AddingAlbum',
  fields: ['id', 'title', 'artist'],
  declaredFields: { artist: new SlugRelatedField({ entity: Artist, slugField: 'name', createIfMissing: true }) },
}) {
  validateTitle(value: string): string {
    if (value === 'Forbidden') throw new ValidationError('This title is not allowed.');
    return value;
  }
}

/** An album written together with its artist. */
class NestedAlbumSerializer extends ModelSerializer.for(Album, {
  name: 'NestedAlbum',
  fields: ['id', 'title', 'artist'],
  declaredFields: { artist: new NestedField(ArtistSerializer, { writable: true }) },
}) {}

class ArtistViewSet extends ModelViewSet<ArtistSerializer> {
  readonly serializer = new ArtistSerializer();
}
class AlbumViewSet extends ModelViewSet<AlbumSerializer> {
  readonly serializer = new AlbumSerializer();
}
class TrackViewSet extends ModelViewSet<TrackSerializer> {
  readonly serializer = new TrackSerializer();
}
class LinkedTrackViewSet extends ModelViewSet<LinkedTrackSerializer> {
  readonly serializer = new LinkedTrackSerializer();
}
class SlugAlbumViewSet extends ModelViewSet<SlugAlbumSerializer> {
  readonly serializer = new SlugAlbumSerializer();
}
class AddingAlbumViewSet extends ModelViewSet<AddingAlbumSerializer> {
  readonly serializer = new AddingAlbumSerializer();
}
/** Writes albums with their artist; a title of "Fail after saving" fails once both rows are written. */
class NestedAlbumViewSet extends ModelViewSet<NestedAlbumSerializer> {
  readonly serializer = new NestedAlbumSerializer();
  override async performCreate(request: FastifyRequest, data: Record<string, unknown>): Promise<object> {
    const album = await super.performCreate(request, data);
    if ((album as { title: string }).title === 'Fail after saving') throw new ValidationError({ title: ['Saved, then refused.'] });
    return album;
  }
}

async function relationsApp(t: Test) {
  const router = new DefaultRouter()
    .register('artists', new ArtistViewSet(), { basename: 'artist' })
    .register('albums', new AlbumViewSet(), { basename: 'album' })
    .register('tracks', new TrackViewSet(), { basename: 'track' })
    .register('linked-tracks', new LinkedTrackViewSet(), { basename: 'linked-track' })
    .register('slug-albums', new SlugAlbumViewSet(), { basename: 'slug-album' })
    .register('adding-albums', new AddingAlbumViewSet(), { basename: 'adding-album' })
    .register('nested-albums', new NestedAlbumViewSet(), { basename: 'nested-album' });
  const { db, client, count } = await entitiesApp(t, [Artist, Album, Track], router);
  return { db, client: client.credentials({ host: 'testserver' }), count };
}

// One database and app for the whole file; each test counts what it changes.
const { client, count, db } = await relationsApp(t);

t.test('related objects read as primary keys, slugs, URLs and nested objects', async (t) => {
  const artist = (await client.post('/api/artists/', { name: 'Miles Davis', country: 'US' })).data;
  const album = (await client.post('/api/tracks/', { title: 'placeholder' })).data;
  t.equal(album.album, null, 'a nullable relation left out is null');
  const created = await client.post('/api/slug-albums/', { title: 'Kind of Blue', artist: 'Miles Davis' });
  t.equal(created.statusCode, 201);
  const albumId = created.data.id;
  const trackIds: number[] = [];
  for (const [title, duration] of [['So What', 562], ['Freddie Freeloader', 589]] as const) {
    const track = await client.post('/api/tracks/', { title, duration, album: albumId });
    t.equal(track.statusCode, 201);
    trackIds.push(track.data.id);
  }

  const res = await client.get(`/api/albums/${albumId}/`);
  t.equal(res.statusCode, 200);
  t.same(res.data, {
    url: `http://testserver/api/albums/${albumId}/`,
    id: albumId,
    title: 'Kind of Blue',
    artist: artist.id,
    artistName: 'Miles Davis',
    artistUrl: `http://testserver/api/artists/${artist.id}/`,
    artistDetail: { id: artist.id, name: 'Miles Davis', country: 'US' },
    tracks: [
      { id: trackIds[0], title: 'So What', duration: 562 },
      { id: trackIds[1], title: 'Freddie Freeloader', duration: 589 },
    ],
    trackIds,
  });
  const list = await client.get('/api/albums/');
  t.same(list.data.results.find((a: { id: number }) => a.id === albumId), res.data, 'a list shows the same representation as an item');
  const tracks = (await client.get('/api/tracks/')).data.results as { id: number; album: unknown }[];
  t.same(
    [album.id, ...trackIds].map((id) => tracks.find((track) => track.id === id)!.album),
    [null, albumId, albumId],
    'a listed relation without a declared field is its primary key',
  );
});

t.test('a primary key must be of the right type and name an existing object, checked before any write', async (t) => {
  const before = await count('rel_track');
  const missing = await client.post('/api/tracks/', { title: 'Lost', album: 9999 });
  t.equal(missing.statusCode, 400);
  t.same(missing.data, { album: ['Invalid pk "9999" - object does not exist.'] });
  const text = await client.post('/api/tracks/', { title: 'Lost', album: 'abc' });
  t.equal(text.statusCode, 400);
  t.same(text.data, { album: ['Incorrect type. Expected pk value, received str.'] });
  const bool = await client.post('/api/tracks/', { title: 'Lost', album: true });
  t.same(bool.data, { album: ['Incorrect type. Expected pk value, received bool.'] });
  const object = await client.post('/api/tracks/', { title: 'Lost', album: { id: 1 } });
  t.same(object.data, { album: ['Incorrect type. Expected pk value, received dict.'] });
  t.equal(await count('rel_track'), before, 'no track was written');

  await client.post('/api/artists/', { name: 'Nina Simone' });
  const album = (await client.post('/api/slug-albums/', { title: 'Pastel Blues', artist: 'Nina Simone' })).data;
  const numeric = await client.post('/api/tracks/', { title: 'Sinnerman', album: String(album.id) });
  t.equal(numeric.statusCode, 201, 'a numeric string is a primary key, as in DRF');
  t.equal(numeric.data.album, album.id);
  const cleared = await client.patch(`/api/tracks/${numeric.data.id}/`, { album: null });
  t.equal(cleared.data.album, null, 'a nullable relation may be cleared');
});

t.test('a slug names the related object by a unique field', async (t) => {
  const albums = await count('rel_album');
  await client.post('/api/artists/', { name: 'John Coltrane' });
  const res = await client.post('/api/slug-albums/', { title: 'Blue Train', artist: 'John Coltrane' });
  t.equal(res.statusCode, 201);
  t.equal(res.data.artist, 'John Coltrane');
  const unknown = await client.post('/api/slug-albums/', { title: 'Nope', artist: 'Nobody' });
  t.equal(unknown.statusCode, 400);
  t.same(unknown.data, { artist: ['Object with name=Nobody does not exist.'] });
  const long = await client.post('/api/slug-albums/', { title: 'Nope', artist: 'x'.repeat(51) });
  t.same(long.data, { artist: ['Ensure this field has no more than 50 characters.'] }, "the slug column's length applies");
  t.equal(await count('rel_album'), albums + 1);
});

t.test('a slug field may add the object it does not find, when the whole body is valid', async (t) => {
  const artists = await count('rel_artist');
  const refused = await client.post('/api/adding-albums/', { title: 'Forbidden', artist: 'Chet Baker' });
  t.equal(refused.statusCode, 400);
  t.equal(await count('rel_artist'), artists, 'an invalid body adds no artist');
  const res = await client.post('/api/adding-albums/', { title: 'Chet Baker Sings', artist: 'Chet Baker' });
  t.equal(res.statusCode, 201);
  t.equal(res.data.artist, 'Chet Baker');
  const again = await client.post('/api/adding-albums/', { title: 'It Could Happen to You', artist: 'Chet Baker' });
  t.equal(again.statusCode, 201);
  t.equal(await count('rel_artist'), artists + 1, 'an existing artist is reused');
  const renamed = await client.patch(`/api/adding-albums/${res.data.id}/`, { artist: 'Chet' });
  t.equal(renamed.data.artist, 'Chet');
  t.equal(await count('rel_artist'), artists + 2);
});

t.test('requests that name the same new object at the same time all succeed and share one row', async (t) => {
  const artists = await count('rel_artist');
  const answers = await Promise.all(
    ['One', 'Two', 'Three', 'Four', 'Five', 'Six'].map((title) => client.post('/api/adding-albums/', { title, artist: 'Blossom Dearie' })),
  );
  t.same(
    answers.map((res) => res.statusCode),
    [201, 201, 201, 201, 201, 201],
    answers.map((res) => res.body).join('\n'),
  );
  t.equal(await count('rel_artist'), artists + 1, 'one artist for all of them');
  const albums = (await client.get('/api/albums/', { query: { limit: '100' } })).data.results as { title: string; artist: number }[];
  const ids = new Set(albums.filter((a) => ['One', 'Two', 'Three', 'Four', 'Five', 'Six'].includes(a.title)).map((a) => a.artist));
  t.equal(ids.size, 1, 'every album relates to that artist');
});

t.test('a hyperlinked relation takes the URL of the related object', async (t) => {
  const before = await count('rel_track');
  await client.post('/api/artists/', { name: 'Bill Evans' });
  const album = (await client.post('/api/slug-albums/', { title: 'Sunday at the Village Vanguard', artist: 'Bill Evans' })).data;
  const url = `http://testserver/api/albums/${album.id}/`;
  const res = await client.post('/api/linked-tracks/', { title: 'Gloria’s Step', album: url });
  t.equal(res.statusCode, 201);
  t.equal(res.data.album, url);
  const path = await client.post('/api/linked-tracks/', { title: 'Alice in Wonderland', album: `http://elsewhere.example/api/albums/${album.id}` });
  t.equal(path.statusCode, 201, 'the host does not matter and the trailing slash is optional, as in DRF');

  const cases: [unknown, string][] = [
    ['http://testserver/api/nothing/1/', 'Invalid hyperlink - No URL match.'],
    ['http://testserver/api/artists/1/', 'Invalid hyperlink - Incorrect URL match.'],
    ['http://testserver/api/albums/9999/', 'Invalid hyperlink - Object does not exist.'],
    ['http://testserver/api/albums/abc/', 'Invalid hyperlink - Object does not exist.'],
    [['two', 'items'], 'Incorrect type. Expected URL string, received list.'],
    [{ href: 'x' }, 'Incorrect type. Expected URL string, received dict.'],
    ['not a url', 'Enter a valid URL.'],
  ];
  for (const [value, message] of cases) {
    const bad = await client.post('/api/linked-tracks/', { title: 'Bad', album: value });
    t.equal(bad.statusCode, 400, String(value));
    t.same(bad.data, { album: [message] }, String(value));
  }
  t.equal(await count('rel_track'), before + 2);
});

t.test('a writable nested object is validated with its own rules and saved with its parent', async (t) => {
  const [artists, albums] = [await count('rel_artist'), await count('rel_album')];
  const res = await client.post('/api/nested-albums/', { title: 'Time Out', artist: { name: 'Dave Brubeck', country: 'US' } });
  t.equal(res.statusCode, 201);
  t.match(res.data, { title: 'Time Out', artist: { id: Number, name: 'Dave Brubeck', country: 'US' } });
  const updated = await client.patch(`/api/nested-albums/${res.data.id}/`, { artist: { country: 'CA' } });
  t.equal(updated.statusCode, 200);
  t.same(updated.data.artist, { id: res.data.artist.id, name: 'Dave Brubeck', country: 'CA' }, 'PATCH updates the nested object in place');
  t.equal(await count('rel_artist'), artists + 1);

  const errors = await client.post('/api/nested-albums/', { title: '', artist: { name: 'x'.repeat(60) } });
  t.equal(errors.statusCode, 400);
  t.same(errors.data, { title: ['This field may not be blank.'], artist: { name: ['Ensure this field has no more than 50 characters.'] } }, 'nested errors nest');
  const missing = await client.post('/api/nested-albums/', { title: 'Take Five', artist: {} });
  t.same(missing.data, { artist: { name: ['This field is required.'] } });
  const taken = await client.post('/api/nested-albums/', { title: 'Take Five', artist: { name: 'Dave Brubeck' } });
  t.same(taken.data, { artist: { name: ['artist with this name already exists.'] } }, "the nested serializer's unique checks run before any write");
  t.equal(await count('rel_album'), albums + 1);
});

t.test('a write that fails after the nested object was saved leaves no half-written row', async (t) => {
  const [artists, albums] = [await count('rel_artist'), await count('rel_album')];
  const res = await client.post('/api/nested-albums/', { title: 'Fail after saving', artist: { name: 'Thelonious Monk' } });
  t.equal(res.statusCode, 400);
  t.same(res.data, { title: ['Saved, then refused.'] });
  t.equal(await count('rel_album'), albums, 'the album was rolled back');
  t.equal(await count('rel_artist'), artists, 'and so was its nested artist');
  const ok = await client.post('/api/nested-albums/', { title: 'Brilliant Corners', artist: { name: 'Thelonious Monk' } });
  t.equal(ok.statusCode, 201, 'the same artist can be written afterwards');
});

t.test('fields may be every property, or every property but some', async (t) => {
  class All extends ModelSerializer.for(Album, { name: 'AllAlbum', fields: '__all__' }) {}
  t.same(new All().fieldNames, ['id', 'title', 'artist'], "'__all__' leaves out to-many relations");
  class Declared extends ModelSerializer.for(Album, {
    name: 'DeclaredAlbum',
    fields: '__all__',
    declaredFields: { url: new HyperlinkedIdentityField({ viewName: 'album-detail' }) },
  }) {}
  t.same(new Declared().fieldNames, ['id', 'url', 'title', 'artist'], 'declared fields follow the primary key, as in DRF');
  class Some extends ModelSerializer.for(Artist, { name: 'SomeArtist', exclude: ['country'] }) {}
  t.same(new Some().fieldNames, ['id', 'name']);
  t.same(Object.keys((new Some().schemas.response as unknown as { properties: object }).properties), ['id', 'name']);

  class Both extends ModelSerializer.for(Artist, { fields: ['id'], exclude: ['name'] as never }) {}
  t.throws(() => new Both().fields, { code: 'FASTREST_ERR_SERIALIZER_OPTIONS' });
  class Neither extends ModelSerializer.for(Artist, {}) {}
  t.throws(() => new Neither().fields, { code: 'FASTREST_ERR_SERIALIZER_OPTIONS' });
  class Unknown extends ModelSerializer.for(Artist, { exclude: ['colour' as 'name'] }) {}
  t.throws(() => new Unknown().fields, { code: 'FASTREST_ERR_SERIALIZER_FIELD', message: /cannot exclude "colour"/ });
});

t.test('misdeclared related fields are setup errors', async (t) => {
  class WrongTarget extends ModelSerializer.for(Track, { name: 'X', fields: ['album'], declaredFields: { album: new PrimaryKeyRelatedField({ entity: Artist }) } }) {}
  t.throws(() => new WrongTarget().fields, { code: 'FASTREST_ERR_SERIALIZER_FIELD', message: /points to Album, not Artist/ });
  class NotARelation extends ModelSerializer.for(Track, { name: 'X', fields: ['title'], declaredFields: { title: new PrimaryKeyRelatedField({ entity: Album }) } }) {}
  t.throws(() => new NotARelation().fields, { message: /is not a to-one relation/ });
  class NoSource extends ModelSerializer.for(Track, { name: 'X', fields: ['disc'], declaredFields: { disc: new PrimaryKeyRelatedField({ entity: Album }) } }) {}
  t.throws(() => new NoSource().fields, { message: /X has no property "disc" \(source of field "disc"\)/ });
  class BadSlug extends ModelSerializer.for(Album, {
    name: 'X',
    fields: ['artist'],
    declaredFields: { artist: new SlugRelatedField({ entity: Artist, slugField: 'nickname' as 'name' }) },
  }) {}
  t.throws(() => new BadSlug().fields, { message: /Artist has no property "nickname"/ });
  class WritableList extends ModelSerializer.for(Album, { name: 'X', fields: ['tracks'], declaredFields: { tracks: new NestedField(TrackSerializer, { many: true, writable: true }) } }) {}
  t.throws(() => new WritableList().fields, SetupError);
});

t.test('nested schemas are named components, registered once, and names do not clash', async (t) => {
  const doc = (await client.get('/openapi.json')).data;
  const schemas = doc.components.schemas;
  t.same(schemas.Album.properties.artistDetail, { allOf: [{ $ref: '#/components/schemas/Artist' }], readOnly: true });
  t.same(schemas.Album.properties.tracks, { type: 'array', items: { $ref: '#/components/schemas/TrackSummary' }, readOnly: true });
  t.same(schemas.Album.properties.url, { type: 'string', format: 'uri', readOnly: true });
  t.same(schemas.NestedAlbumRequest.properties.artist, { allOf: [{ $ref: '#/components/schemas/ArtistRequest' }] });
  t.same(schemas.PatchedNestedAlbumRequest.properties.artist, { allOf: [{ $ref: '#/components/schemas/PatchedArtistRequest' }] });
  t.ok(schemas.TrackSummary, 'a read-only nested serializer registers its response');
  t.notOk(schemas.TrackSummaryRequest, 'but not request schemas nobody sends');
  t.same(schemas.Track.properties.album, { type: ['integer', 'null'], minimum: -2147483648, maximum: 2147483647, 'x-error-messages': { type: 'Incorrect type. Expected pk value, received {data_type}.' } });

  class Impostor extends ModelSerializer.for(Artist, { name: 'Album', fields: ['id'] }) {}
  class ImpostorViewSet extends ModelViewSet<Impostor> {
    readonly serializer = new Impostor();
  }
  const app = Fastify(serverOptions());
  await app.register(fastrest);
  const router = new DefaultRouter().register('albums', new AlbumViewSet()).register('impostors', new ImpostorViewSet());
  await t.rejects(async () => app.register(router.plugin('/api')), { code: 'FASTREST_ERR_SCHEMA_NAME', message: /two different schemas are named "Album"/ });
  await app.close().catch(() => undefined);
});

t.test('a serializer shows related objects of entities it is given, within one context', async (t) => {
  const em = db.orm.em.fork();
  const artist = em.create(Artist, { name: 'Sonny Rollins' });
  const albums = [em.create(Album, { title: 'Saxophone Colossus', artist }), em.create(Album, { title: 'Way Out West', artist })];
  await em.flush();
  const serializer = new SlugAlbumSerializer();
  const shown = await serializer.represent(albums, { em: db.orm.em.fork() });
  t.same(
    shown.map((a) => a.artist),
    ['Sonny Rollins', 'Sonny Rollins'],
  );
  t.same(serializer.toRepresentation(albums[0]!).artist, 'Sonny Rollins', 'toRepresentation uses what is loaded');
  t.throws(() => new AlbumSerializer().toRepresentation(albums[0]!), /needs the request in the serializer context/);
});

t.test('to-one relations a serializer shows are joined into the query of their rows: one query per item or page', async (t) => {
  class ShownAlbumSerializer extends ModelSerializer.for(Album, {
    name: 'ShownAlbum',
    fields: ['id', 'title', 'artist', 'artistDetail'],
    declaredFields: {
      artist: new SlugRelatedField({ entity: Artist, slugField: 'name', readOnly: true }),
      artistDetail: new NestedField(ArtistSerializer, { source: 'artist' }),
    },
  }) {}
  class ShownAlbumViewSet extends ModelViewSet<ShownAlbumSerializer> {
    readonly serializer = new ShownAlbumSerializer();
  }
  class ShownTrackSerializer extends ModelSerializer.for(Track, {
    name: 'ShownTrack',
    fields: ['id', 'album'],
    declaredFields: { album: new SlugRelatedField({ entity: Album, slugField: 'title', readOnly: true }) },
  }) {}
  class ShownTrackViewSet extends ModelViewSet<ShownTrackSerializer> {
    readonly serializer = new ShownTrackSerializer();
    override pagination = Object.assign(new PageNumberPagination(), { pageSize: 10 });
  }
  const router = new DefaultRouter().register('albums', new ShownAlbumViewSet(), { basename: 'album' }).register('tracks', new ShownTrackViewSet(), { basename: 'track' });
  const statements: string[] = [];
  const { client } = await entitiesApp(t, [Artist, Album, Track], router, async (_app, own) => {
    own.orm.config.set('onQuery', (sql: string) => {
      statements.push(sql);
      return sql;
    });
    const em = own.orm.em.fork();
    const miles = em.create(Artist, { name: 'Miles Davis', country: 'US' });
    em.create(Album, { title: 'Kind of Blue', artist: miles });
    const sketches = em.create(Album, { title: 'Sketches of Spain', artist: miles });
    em.create(Track, { title: 'Concierto de Aranjuez', album: sketches });
    em.create(Track, { title: 'A single', album: null });
    await em.flush();
  });

  statements.length = 0;
  const item = await client.get('/api/albums/1/');
  t.same(item.data, { id: 1, title: 'Kind of Blue', artist: 'Miles Davis', artistDetail: { id: 1, name: 'Miles Davis', country: 'US' } });
  t.equal(statements.length, 1, 'the album and its artist: one query');
  t.match(statements[0], /left join "rel_artist"/);

  statements.length = 0;
  const list = await client.get('/api/albums/');
  t.same(
    list.data.results.map((a: { artist: unknown; artistDetail: unknown }) => [a.artist, a.artistDetail]),
    [
      ['Miles Davis', { id: 1, name: 'Miles Davis', country: 'US' }],
      ['Miles Davis', { id: 1, name: 'Miles Davis', country: 'US' }],
    ],
  );
  t.equal(statements.length, 2, 'a page of albums and their artists: its count, then one query');
  t.same((await client.get('/api/albums/2/')).data.artistDetail.name, 'Miles Davis', 'compiled once, the query serves other items');

  statements.length = 0;
  const page = await client.get('/api/tracks/');
  t.same(page.data.results, [
    { id: 1, album: 'Sketches of Spain' },
    { id: 2, album: null },
  ], 'a row without a related row shows null (a left join)');
  t.equal(statements.length, 2, 'a page: its count, then its rows with their albums');
});
