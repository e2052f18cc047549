import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetImagesRepository } from '../../src/db/dataset-images.repository.js';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import { DatasetImagesService } from '../../src/services/dataset-images.service.js';
import { DomainError } from '../../src/services/domain-error.js';
import { thumbnailKey } from '../../src/storage/thumbnails.js';
import { multipart, photo, zip } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';

/*
 * Listing a dataset's images and their thumbnails, against a real Graft (PostgreSQL, Redis, the
 * local artifact store): paging and filters, tenant scoping, thumbnails that are real WebP of
 * the right size, served from the store the second time, 304s, and gone with the dataset.
 */

let h: Harness;
let acme: string;
let globex: string;
/** Split into train/ and val/: cats (5 + 2, one of them EXIF-rotated) and dogs (4 + 2). */
let splitId: string;
/** Not split, with one big photo. */
let plainId: string;

interface ImageItem {
  id: string;
  class: string;
  split: 'train' | 'val' | null;
  path: string;
  width: number;
  height: number;
  bytes: number;
  thumbnailUrl: string;
}
interface ImagePage {
  items: ImageItem[];
  total: number;
  limit: number;
  offset: number;
}

const get = (url: string, key: string, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${key}`, ...headers } });

async function upload(files: Record<string, Buffer | string>, key: string): Promise<string> {
  const body = multipart('data.zip', await zip(files));
  const response = await h.app.inject({
    method: 'POST',
    url: '/v1/datasets',
    payload: body.payload,
    headers: { ...body.headers, authorization: `Bearer ${key}` },
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<{ id: string }>().id;
}

/** 400 × 200 pixels stored, with EXIF orientation 6: upright it is 200 wide and 400 high. */
const sideways = () =>
  sharp({ create: { width: 400, height: 200, channels: 3, background: { r: 250, g: 20, b: 20 } } })
    .jpeg()
    .withMetadata({ orientation: 6 })
    .toBuffer();

const list = async (datasetId: string, query: string, key = acme) => {
  const response = await get(`/v1/datasets/${datasetId}/images?${query}`, key);
  return { status: response.statusCode, body: response.json<ImagePage>(), response };
};

beforeAll(async () => {
  h = await startHarness({ worker: false });
  acme = await h.newKey('acme');
  globex = await h.newKey('globex');
  const files: Record<string, Buffer | string> = {
    'train/cats/rotated.jpg': await sideways(),
    'train/cats/notes.txt': 'not an image',
  };
  for (let i = 0; i < 4; i++) files[`train/cats/c${i}.jpg`] = await photo([200, 150, 100], i);
  for (let i = 0; i < 2; i++) files[`val/cats/v${i}.jpg`] = await photo([200, 150, 100], i + 10);
  for (let i = 0; i < 4; i++) files[`train/dogs/d${i}.jpg`] = await photo([90, 90, 90], i + 20);
  for (let i = 0; i < 2; i++) files[`val/dogs/v${i}.jpg`] = await photo([90, 90, 90], i + 30);
  splitId = await upload(files, acme);
  const big = await sharp({
    create: { width: 2400, height: 1800, channels: 3, background: { r: 10, g: 200, b: 90 } },
  })
    .jpeg()
    .toBuffer();
  plainId = await upload(
    {
      'a/big.jpg': big,
      'a/1.jpg': await photo([10, 200, 90], 1),
      'b/1.jpg': await photo([90, 10, 200], 2),
      'b/2.jpg': await photo([90, 10, 200], 3),
    },
    acme,
  );
});

afterAll(async () => {
  await h?.close();
});

describe('listing images', () => {
  it('lists by class, then path, with stable ids and thumbnail links', async () => {
    const { status, body } = await list(splitId, '');
    expect(status).toBe(200);
    expect(body).toMatchObject({ total: 13, limit: 60, offset: 0 });
    expect(body.items.map((i) => `${i.class} ${i.path}`)).toEqual([
      'cats train/cats/c0.jpg',
      'cats train/cats/c1.jpg',
      'cats train/cats/c2.jpg',
      'cats train/cats/c3.jpg',
      'cats train/cats/rotated.jpg',
      'cats val/cats/v0.jpg',
      'cats val/cats/v1.jpg',
      'dogs train/dogs/d0.jpg',
      'dogs train/dogs/d1.jpg',
      'dogs train/dogs/d2.jpg',
      'dogs train/dogs/d3.jpg',
      'dogs val/dogs/v0.jpg',
      'dogs val/dogs/v1.jpg',
    ]);
    const rotated = body.items.find((i) => i.path.endsWith('rotated.jpg'))!;
    expect(rotated).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
      class: 'cats',
      split: 'train',
      path: 'train/cats/rotated.jpg',
      width: expect.any(Number) as number,
      height: expect.any(Number) as number,
      bytes: expect.any(Number) as number,
      thumbnailUrl: `/v1/datasets/${splitId}/images/${rotated.id}/thumbnail`,
    });
    expect(rotated.id).not.toContain('rotated');
    // The same ids on the next request.
    expect((await list(splitId, '')).body.items.map((i) => i.id)).toEqual(
      body.items.map((i) => i.id),
    );
  });

  it('pages through one class: total, offset and limit', async () => {
    const first = await list(splitId, 'class=cats&limit=3');
    const second = await list(splitId, 'class=cats&limit=3&offset=3');
    const last = await list(splitId, 'class=cats&limit=3&offset=6');
    expect([first.body.total, second.body.total, last.body.total]).toEqual([7, 7, 7]);
    expect(second.body).toMatchObject({ limit: 3, offset: 3 });
    const pages = [first, second, last].map((page) => page.body.items.map((i) => i.path));
    expect(pages.map((p) => p.length)).toEqual([3, 3, 1]);
    expect(pages.flat()).toEqual([
      'train/cats/c0.jpg',
      'train/cats/c1.jpg',
      'train/cats/c2.jpg',
      'train/cats/c3.jpg',
      'train/cats/rotated.jpg',
      'val/cats/v0.jpg',
      'val/cats/v1.jpg',
    ]);
    expect((await list(splitId, 'class=cats&offset=50')).body).toMatchObject({
      items: [],
      total: 7,
    });
  });

  it('filters by split', async () => {
    const { body } = await list(splitId, 'split=val');
    expect(body.total).toBe(4);
    expect(body.items.map((i) => `${i.class} ${i.split} ${i.path}`)).toEqual([
      'cats val val/cats/v0.jpg',
      'cats val val/cats/v1.jpg',
      'dogs val val/dogs/v0.jpg',
      'dogs val val/dogs/v1.jpg',
    ]);
    const dogs = await list(splitId, 'class=dogs&split=train');
    expect(dogs.body.total).toBe(4);
    expect(dogs.body.items.every((i) => i.class === 'dogs' && i.split === 'train')).toBe(true);
  });

  it('refuses a class the dataset lacks, naming its classes; a split of an unsplit dataset', async () => {
    const bad = await list(splitId, 'class=birds');
    expect(bad.status).toBe(422);
    expect(bad.response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.body).toMatchObject({
      code: 'unknown_class',
      classes: ['cats', 'dogs'],
      detail: expect.stringContaining('cats, dogs') as string,
    });
    const unsplit = await list(plainId, 'split=train');
    expect(unsplit.status).toBe(422);
    expect(unsplit.body).toMatchObject({ code: 'not_split' });
    const plain = await list(plainId, '');
    expect(plain.body.total).toBe(4);
    expect(plain.body.items.every((i) => i.split === null)).toBe(true);
  });

  it('refuses bad paging', async () => {
    expect((await list(splitId, 'limit=201')).status).toBe(400);
    expect((await list(splitId, 'limit=0')).status).toBe(400);
    expect((await list(splitId, 'offset=-1')).status).toBe(400);
    expect((await list(splitId, 'split=test')).status).toBe(400);
    expect((await list(splitId, 'limit=200')).status).toBe(200);
  });

  it("is 404 for another tenant's dataset, and for none", async () => {
    const other = await list(splitId, '', globex);
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ code: 'not_found' });
    expect((await list('00000000-0000-4000-8000-000000000000', '')).status).toBe(404);
    expect((await get(`/v1/datasets/${splitId}/images`, 'graft_nope')).statusCode).toBe(401);
  });
});

describe('thumbnails', () => {
  const itemOf = async (datasetId: string, path: string) =>
    (await list(datasetId, 'limit=200')).body.items.find((i) => i.path === path)!;

  it('is a WebP, upright by its EXIF orientation, inside the size asked for', async () => {
    const rotated = await itemOf(splitId, 'train/cats/rotated.jpg');
    const response = await get(rotated.thumbnailUrl, acme);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/webp');
    expect(response.headers['cache-control']).toMatch(/^private, max-age=\d+$/);
    expect(response.headers.etag).toMatch(/^"[^"]+"$/);
    const meta = await sharp(response.rawPayload).metadata();
    // 400 × 200 stored, orientation 6: upright 200 × 400, fit inside 160 × 160.
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 80, 160]);

    const small = await get(`${rotated.thumbnailUrl}?size=64`, acme);
    expect(small.statusCode).toBe(200);
    const smallMeta = await sharp(small.rawPayload).metadata();
    expect([smallMeta.format, smallMeta.width, smallMeta.height]).toEqual(['webp', 32, 64]);
    expect(small.headers.etag).not.toBe(response.headers.etag);

    const big = await itemOf(plainId, 'a/big.jpg');
    const bigMeta = await sharp(
      (await get(`${big.thumbnailUrl}?size=256`, acme)).rawPayload,
    ).metadata();
    expect([bigMeta.format, bigMeta.width, bigMeta.height]).toEqual(['webp', 256, 192]);
    // A 48 px photo is not enlarged.
    const tiny = await itemOf(splitId, 'train/cats/c0.jpg');
    const tinyMeta = await sharp((await get(tiny.thumbnailUrl, acme)).rawPayload).metadata();
    expect([tinyMeta.width, tinyMeta.height]).toEqual([48, 48]);
  });

  it('is kept in the artifact store and served from it the next time', async () => {
    const image = await itemOf(splitId, 'train/dogs/d1.jpg');
    const key = thumbnailKey(splitId, image.id, 96);
    expect(await h.store.exists(key)).toBe(false);
    const first = await get(`${image.thumbnailUrl}?size=96`, acme);
    expect(first.statusCode).toBe(200);
    expect(Buffer.compare(await h.store.get(key), first.rawPayload)).toBe(0);
    // What the store holds is what the next request gets: it is not rendered again.
    const marker = await sharp({
      create: { width: 7, height: 5, channels: 3, background: { r: 0, g: 0, b: 0 } },
    })
      .webp()
      .toBuffer();
    await h.store.put(key, marker);
    const second = await get(`${image.thumbnailUrl}?size=96`, acme);
    expect(second.statusCode).toBe(200);
    expect(Buffer.compare(second.rawPayload, marker)).toBe(0);
    expect(second.headers.etag).toBe(first.headers.etag);
  });

  it('answers 304 to a current If-None-Match, without a body', async () => {
    const image = await itemOf(splitId, 'val/dogs/v0.jpg');
    const first = await get(image.thumbnailUrl, acme);
    const etag = first.headers.etag as string;
    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const again = await get(image.thumbnailUrl, acme, { 'if-none-match': header });
      expect(again.statusCode, header).toBe(304);
      expect(again.rawPayload.length).toBe(0);
      expect(again.headers.etag).toBe(etag);
    }
    const stale = await get(image.thumbnailUrl, acme, { 'if-none-match': '"stale"' });
    expect(stale.statusCode).toBe(200);
    // Another size is another thumbnail.
    const other = await get(`${image.thumbnailUrl}?size=128`, acme, { 'if-none-match': etag });
    expect(other.statusCode).toBe(200);
  });

  it('is 404 for an unknown image, another dataset, another tenant; 400 for a bad id or size', async () => {
    const image = await itemOf(splitId, 'train/cats/c1.jpg');
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(
      (await get(`/v1/datasets/${splitId}/images/${unknown}/thumbnail`, acme)).statusCode,
    ).toBe(404);
    expect(
      (await get(`/v1/datasets/${plainId}/images/${image.id}/thumbnail`, acme)).statusCode,
    ).toBe(404);
    const stranger = await get(image.thumbnailUrl, globex);
    expect(stranger.statusCode).toBe(404);
    expect(stranger.json()).toMatchObject({ code: 'not_found' });
    expect((await get(`/v1/datasets/${splitId}/images/c1.jpg/thumbnail`, acme)).statusCode).toBe(
      400,
    );
    expect((await get(`${image.thumbnailUrl}?size=100`, acme)).statusCode).toBe(400);
    expect((await get(`${image.thumbnailUrl}?size=1024`, acme)).statusCode).toBe(400);
  });

  it('renders a grid of 60 at once', async () => {
    const responses = await Promise.all(
      [64, 96, 128, 160, 192].flatMap((size) =>
        Array.from({ length: 12 }, async (_, i) => {
          const page = (await list(splitId, '')).body.items;
          return get(`${page[i % page.length]!.thumbnailUrl}?size=${size}`, acme);
        }),
      ),
    );
    expect(responses.map((r) => r.statusCode)).toEqual(Array(60).fill(200));
  });

  it('answers 503 with Retry-After when the store cannot be read', async () => {
    const image = await itemOf(plainId, 'b/2.jpg');
    const row = await h.db.datasetImage.findUniqueOrThrow({ where: { id: image.id } });
    const file = join(h.config.dataDir, 'artifacts', ...row.storageKey.split('/'));
    // A folder where the image should be: reading it fails with EISDIR, a disk fault.
    rmSync(file);
    mkdirSync(file);
    const response = await get(image.thumbnailUrl, acme);
    expect(response.statusCode).toBe(503);
    expect(response.headers['retry-after']).toBe('5');
    expect(response.json()).toMatchObject({ code: 'storage_unavailable' });
  });

  it('gives 503 busy when thumbnails wait too long for their turn', async () => {
    const service = new DatasetImagesService(
      new DatasetsRepository(h.db),
      new DatasetImagesRepository(h.db),
      h.store,
      { concurrency: 1, waitMs: 1, maxWaiting: 256 },
    );
    const tenantId = (await h.db.tenant.findFirstOrThrow({ where: { name: 'acme' } })).id;
    const big = await itemOf(plainId, 'a/big.jpg');
    const outcomes = await Promise.allSettled(
      [64, 96, 128, 160, 192, 224].map((size) =>
        service.thumbnail(tenantId, plainId, big.id, size),
      ),
    );
    const failures = outcomes.flatMap((o) =>
      o.status === 'rejected' ? [o.reason as unknown] : [],
    );
    expect(outcomes.some((o) => o.status === 'fulfilled')).toBe(true);
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure).toBeInstanceOf(DomainError);
      expect(failure).toMatchObject({
        status: 503,
        code: 'busy',
        details: { retryAfterSeconds: 2 },
      });
    }
  });

  it('refuses at once, holding nothing, the thumbnails beyond those that may wait', async () => {
    const service = new DatasetImagesService(
      new DatasetsRepository(h.db),
      new DatasetImagesRepository(h.db),
      h.store,
      { concurrency: 1, waitMs: 10_000, maxWaiting: 1 },
    );
    const tenantId = (await h.db.tenant.findFirstOrThrow({ where: { name: 'acme' } })).id;
    const image = await itemOf(plainId, 'b/1.jpg');
    const sizes = [64, 96, 128, 160, 192, 224, 256];
    // None cached (the grid above made some): each must be rendered.
    for (const size of sizes) await h.store.remove(thumbnailKey(plainId, image.id, size));
    const outcomes = await Promise.allSettled(
      sizes.map((size) => service.thumbnail(tenantId, plainId, image.id, size)),
    );
    // One renders, one waits its turn (and renders), the other five are refused.
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(2);
    for (const outcome of outcomes.filter((o) => o.status === 'rejected'))
      expect(outcome.reason).toMatchObject({ status: 503, code: 'busy' });
  });

  it('goes with its dataset', async () => {
    const doomed = await upload(
      {
        'x/1.jpg': await photo([1, 2, 3], 1),
        'x/2.jpg': await photo([1, 2, 3], 2),
        'y/1.jpg': await photo([200, 2, 3], 3),
        'y/2.jpg': await photo([200, 2, 3], 4),
      },
      acme,
    );
    const image = (await list(doomed, '')).body.items[0]!;
    expect((await get(image.thumbnailUrl, acme)).statusCode).toBe(200);
    const key = thumbnailKey(doomed, image.id, 160);
    expect(await h.store.exists(key)).toBe(true);
    const deleted = await h.app.inject({
      method: 'DELETE',
      url: `/v1/datasets/${doomed}`,
      headers: { authorization: `Bearer ${acme}` },
    });
    expect(deleted.statusCode).toBe(204);
    expect(await h.store.exists(key)).toBe(false);
    expect(await h.store.list(`datasets/${doomed}`)).toEqual([]);
    expect((await get(image.thumbnailUrl, acme)).statusCode).toBe(404);
    expect((await list(doomed, '')).status).toBe(404);
  });
});
