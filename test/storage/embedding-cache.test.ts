import { mkdtempSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddingCacheRepository } from '../../src/db/embedding-cache.repository.js';
import { ModelsRepository } from '../../src/db/models.repository.js';
import type { Db } from '../../src/db/prisma-client.js';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import { LocalArtifactStore, type ArtifactStore } from '../../src/storage/artifact-store.js';
import {
  baseModelDigest,
  EMBEDDING_MAX_IDLE_DAYS,
  embeddingsPrefix,
  expireEmbeddings,
  TenantEmbeddings,
  tenantEmbeddings,
  type TenantEmbeddingsOptions,
} from '../../src/storage/embedding-cache.js';
import { decodeEmbedding, encodeEmbedding } from '../../src/storage/embedding-format.js';
import { S3ArtifactStore } from '../../src/storage/s3-artifact-store.js';
import { sweepOrphans } from '../../src/worker/orphan-sweep.js';
import { startS3Server } from '../helpers/s3-server.js';
import { startTestDatabase, type TestDatabase } from '../worker/worker-database.js';

const CONTEXT = 'size=224|cut=block_13_expand_relu|blocks=2|format=1';
const DIGEST = 'a'.repeat(64);

let database: TestDatabase;
let db: Db;
let index: EmbeddingCacheRepository;
let tenantA: string;
let tenantB: string;

beforeAll(async () => {
  database = await startTestDatabase();
  db = database.db;
  index = new EmbeddingCacheRepository(db);
});
afterAll(async () => {
  await database?.close();
});
beforeEach(async () => {
  tenantA = (await db.tenant.create({ data: { name: `a-${Math.random()}` } })).id;
  tenantB = (await db.tenant.create({ data: { name: `b-${Math.random()}` } })).id;
});

const newStore = () => new LocalArtifactStore(mkdtempSync(join(tmpdir(), 'graft-embeddings-')));

function cacheOf(
  store: ArtifactStore,
  tenantId: string,
  options: Partial<TenantEmbeddingsOptions> = {},
): TenantEmbeddings {
  return new TenantEmbeddings({
    store,
    index,
    tenantId,
    baseDigest: DIGEST,
    budgetBytes: 1024 ** 2,
    ...options,
  });
}

/** Outputs that differ per `seed`: a pooled vector and a small activation map. */
const outputsOf = (seed: number) => [
  Float32Array.from({ length: 100 }, (_, i) => seed + i / 7),
  Float32Array.from({ length: 50 }, (_, i) => -seed * i),
];
/** What one entry of `outputsOf` takes in the store: header, lengths, digest, floats. */
const ENTRY_BYTES = 12 + 2 * 4 + 32 + 150 * 4;

const entry = (contentHash: string, seed: number, mirrored = false) => ({
  contentHash,
  mirrored,
  outputs: outputsOf(seed),
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const objectKey = (cache: TenantEmbeddings, tenantId: string, hash: string, mirrored = false) =>
  `${embeddingsPrefix(tenantId)}/${cache.keyOf(CONTEXT, hash, mirrored)}`;

describe('the embedding cache', () => {
  it('gives back what was put, array by array, and misses what was not', async () => {
    const cache = cacheOf(newStore(), tenantA);
    await cache.put(CONTEXT, [entry('h1', 1), entry('h2', 2)]);
    const got = await cache.get(CONTEXT, [
      { contentHash: 'h2', mirrored: false },
      { contentHash: 'unknown', mirrored: false },
      { contentHash: 'h1', mirrored: false },
      { contentHash: 'h1', mirrored: false },
    ]);
    expect(got[0]).toEqual(outputsOf(2));
    expect(got[1]).toBeUndefined();
    expect(got[2]).toEqual(outputsOf(1));
    expect(got[3]).toEqual(outputsOf(1));
    expect(got[3]![0]).not.toBe(got[2]![0]); // the same image twice: arrays of its own
    expect(await index.totalBytes(tenantA)).toBe(2 * ENTRY_BYTES);
    expect(await cache.get(CONTEXT, [])).toEqual([]);
  });

  it('keeps the context, base, flip and tenant apart', async () => {
    const store = newStore();
    const cache = cacheOf(store, tenantA);
    await cache.put(CONTEXT, [entry('h1', 1), entry('h1', 2, true)]);
    await cache.put('another context', [entry('h1', 3)]);
    await cacheOf(store, tenantA, { baseDigest: 'b'.repeat(64) }).put(CONTEXT, [entry('h1', 4)]);
    const one = [{ contentHash: 'h1', mirrored: false }];
    expect(await cache.get(CONTEXT, one)).toEqual([outputsOf(1)]);
    expect(await cache.get(CONTEXT, [{ contentHash: 'h1', mirrored: true }])).toEqual([
      outputsOf(2),
    ]);
    expect(await cache.get('another context', one)).toEqual([outputsOf(3)]);
    const otherBase = cacheOf(store, tenantA, { baseDigest: 'b'.repeat(64) });
    expect(await otherBase.get(CONTEXT, one)).toEqual([outputsOf(4)]);
    // Tenant B, same store, base, context and image: nothing of A's.
    const cacheB = cacheOf(store, tenantB);
    expect(await cacheB.get(CONTEXT, one)).toEqual([undefined]);
    expect(await store.list(embeddingsPrefix(tenantB))).toEqual([]);
    // Even A's object copied into B's folder under B's name is not B's: B has no row, and
    // with a row the check (which covers the tenant) refuses it.
    const copied = objectKey(cacheB, tenantB, 'h1');
    await store.put(copied, await store.get(objectKey(cache, tenantA, 'h1')));
    expect(await cacheB.get(CONTEXT, one)).toEqual([undefined]);
    await index.record(tenantB, [
      { key: cacheB.keyOf(CONTEXT, 'h1', false), contentHash: 'h1', bytes: 1 },
    ]);
    expect(await cacheB.get(CONTEXT, one)).toEqual([undefined]);
  });

  it('evicts the least recently used entries past the budget, rows then objects', async () => {
    const store = newStore();
    // Eviction leaves 90% of the budget: room for three entries here.
    const budgetBytes = 3 * ENTRY_BYTES + ENTRY_BYTES / 2;
    const cache = cacheOf(store, tenantA, { budgetBytes });
    for (const [i, hash] of ['h1', 'h2', 'h3'].entries()) {
      await cache.put(CONTEXT, [entry(hash, i)]);
      await sleep(5); // lastUsedAt has millisecond precision
    }
    expect(await cache.get(CONTEXT, [{ contentHash: 'h1', mirrored: false }])).toEqual([
      outputsOf(0),
    ]);
    await sleep(5);
    await cache.put(CONTEXT, [entry('h4', 4)]);
    expect(await index.totalBytes(tenantA)).toBe(3 * ENTRY_BYTES);
    const all = ['h1', 'h2', 'h3', 'h4'].map((contentHash) => ({ contentHash, mirrored: false }));
    const got = await cache.get(CONTEXT, all);
    expect(got.map((outputs) => outputs !== undefined)).toEqual([true, false, true, true]);
    expect(await store.exists(objectKey(cache, tenantA, 'h2'))).toBe(false);
    // A batch larger than the budget keeps its newest part; an entry larger than it is skipped.
    await cache.put(CONTEXT, [entry('h5', 5), entry('h6', 6), entry('h7', 7), entry('h8', 8)]);
    expect(await index.totalBytes(tenantA)).toBe(3 * ENTRY_BYTES);
    const huge = { contentHash: 'huge', mirrored: false, outputs: [new Float32Array(1200)] };
    await cache.put(CONTEXT, [huge]);
    expect(await store.exists(objectKey(cache, tenantA, 'huge'))).toBe(false);
    expect((await store.list(embeddingsPrefix(tenantA))).length).toBe(3);
  });

  it('stays within the budget when jobs of one tenant store and read at once', async () => {
    const store = newStore();
    const warnings: unknown[] = [];
    const caches = [0, 1, 2].map(() =>
      cacheOf(store, tenantA, {
        budgetBytes: 10 * ENTRY_BYTES,
        onWarning: (message, error) => warnings.push([message, String(error)]),
      }),
    );
    await Promise.all(
      caches.map(async (cache, c) => {
        for (let batch = 0; batch < 6; batch++) {
          const hashes = Array.from({ length: 4 }, (_, i) => `h${(batch * 3 + i + c) % 20}`);
          await cache.get(
            CONTEXT,
            hashes.map((contentHash) => ({ contentHash, mirrored: false })),
          );
          await cache.put(
            CONTEXT,
            hashes.map((hash) => entry(hash, Number(hash.slice(1)))),
          );
        }
      }),
    );
    expect(warnings).toEqual([]);
    expect(await index.totalBytes(tenantA)).toBeLessThanOrEqual(10 * ENTRY_BYTES);
    // Every entry still indexed reads back whole and right.
    const rows = await db.embeddingCacheEntry.findMany({ where: { tenantId: tenantA } });
    const hashes = Array.from({ length: 20 }, (_, i) => `h${i}`);
    const got = await caches[0]!.get(
      CONTEXT,
      hashes.map((contentHash) => ({ contentHash, mirrored: false })),
    );
    for (const [i, outputs] of got.entries()) if (outputs) expect(outputs).toEqual(outputsOf(i));
    expect(got.filter(Boolean).length).toBeLessThanOrEqual(rows.length);
  });

  it('treats a damaged, truncated or misplaced object as a miss', async () => {
    const store = newStore();
    const warnings: string[] = [];
    const cache = cacheOf(store, tenantA, { onWarning: (message) => warnings.push(message) });
    await cache.put(CONTEXT, [entry('h1', 1), entry('h2', 2), entry('h3', 3)]);
    const [k1, k2, k3] = ['h1', 'h2', 'h3'].map((hash) => objectKey(cache, tenantA, hash));
    const flipped = Buffer.from(await store.get(k1!));
    flipped[flipped.length - 3]! ^= 0x10;
    await store.put(k1!, flipped);
    await store.put(k2!, (await store.get(k2!)).subarray(0, 100));
    await store.put(k3!, encodeEmbedding(cache.keyOf(CONTEXT, 'h1', false), outputsOf(3)));
    const got = await cache.get(
      CONTEXT,
      ['h1', 'h2', 'h3'].map((contentHash) => ({ contentHash, mirrored: false })),
    );
    expect(got).toEqual([undefined, undefined, undefined]);
    expect(warnings).toEqual(['embedding cache: a stored entry is damaged; it is extracted again']);
    // Stored again after extraction, it reads back.
    await cache.put(CONTEXT, [entry('h1', 1)]);
    expect(await cache.get(CONTEXT, [{ contentHash: 'h1', mirrored: false }])).toEqual([
      outputsOf(1),
    ]);
  });

  it('never fails a run: a failing store or database is a miss or an entry not kept', async () => {
    const real = newStore();
    const ok = cacheOf(real, tenantA);
    await ok.put(CONTEXT, [entry('h1', 1)]);
    const eio = () => Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
    const broken: ArtifactStore = Object.assign(Object.create(real) as ArtifactStore, {
      get: () => Promise.reject(eio()),
      put: () => Promise.reject(eio()),
    });
    const warnings: [string, unknown][] = [];
    const cache = cacheOf(broken, tenantA, {
      onWarning: (message, error) => warnings.push([message, error]),
    });
    const two = [
      { contentHash: 'h1', mirrored: false },
      { contentHash: 'h1', mirrored: false },
    ];
    expect(await cache.get(CONTEXT, two)).toEqual([undefined, undefined]);
    await expect(cache.put(CONTEXT, [entry('h2', 2)])).resolves.toBeUndefined();
    // The row of an object that could not be stored goes again.
    expect(await index.existing(tenantA, [cache.keyOf(CONTEXT, 'h2', false)])).toEqual(new Set());
    expect(warnings.map(([message]) => message)).toEqual([
      'embedding cache: reading failed; those images are extracted again',
      'embedding cache: storing failed; those images are not cached',
    ]);
    // The database away: misses and nothing stored, no throw.
    const failing = {
      touch: () => Promise.reject(new Error('database down')),
      record: () => Promise.reject(new Error('database down')),
    } as unknown as EmbeddingCacheRepository;
    const offline = cacheOf(real, tenantA, { index: failing });
    expect(await offline.get(CONTEXT, two)).toEqual([undefined, undefined]);
    await expect(offline.put(CONTEXT, [entry('h3', 3)])).resolves.toBeUndefined();
    expect(await real.exists(objectKey(ok, tenantA, 'h3'))).toBe(false);
  });

  it('stores and finds nothing with a budget of 0', async () => {
    const store = newStore();
    const options = { store, index, tenantId: tenantA, baseDigest: DIGEST, budgetBytes: 0 };
    expect(tenantEmbeddings(options)).toBeUndefined();
    const cache = new TenantEmbeddings(options);
    await cache.put(CONTEXT, [entry('h1', 1)]);
    expect(await cache.get(CONTEXT, [{ contentHash: 'h1', mirrored: false }])).toEqual([undefined]);
    expect(await index.totalBytes(tenantA)).toBe(0);
    expect(await store.list('')).toEqual([]);
    expect(() => new TenantEmbeddings({ ...options, tenantId: '../x' })).toThrow(/tenant id/);
  });

  it('records the image of each entry', async () => {
    const cache = cacheOf(newStore(), tenantA);
    await cache.put(CONTEXT, [entry('h1', 1), entry('h1', 2, true), entry('h2', 3)]);
    const rows = await db.embeddingCacheEntry.findMany({
      where: { tenantId: tenantA },
      select: { key: true, contentHash: true },
    });
    expect(new Map(rows.map((row) => [row.key, row.contentHash]))).toEqual(
      new Map([
        [cache.keyOf(CONTEXT, 'h1', false), 'h1'],
        [cache.keyOf(CONTEXT, 'h1', true), 'h1'],
        [cache.keyOf(CONTEXT, 'h2', false), 'h2'],
      ]),
    );
  });

  it('goes with its tenant', async () => {
    await cacheOf(newStore(), tenantA).put(CONTEXT, [entry('h1', 1)]);
    await db.tenant.delete({ where: { id: tenantA } });
    expect(await index.totalBytes(tenantA)).toBe(0);
  });
});

describe("the reaper's sweep", () => {
  it('removes old cached objects without a row, and only those', async () => {
    const root = mkdtempSync(join(tmpdir(), 'graft-embeddings-'));
    const store = new LocalArtifactStore(root);
    const cache = cacheOf(store, tenantA);
    await cache.put(CONTEXT, [entry('kept', 1), entry('evicted', 2), entry('young', 3)]);
    const cacheB = cacheOf(store, tenantB);
    await cacheB.put(CONTEXT, [entry('h1', 4)]);
    await index.forget(
      tenantA,
      ['evicted', 'young'].map((h) => cache.keyOf(CONTEXT, h, false)),
    );
    await db.tenant.delete({ where: { id: tenantB } }); // its rows go with it, not its objects
    const hourAgo = new Date(Date.now() - 3_600_000);
    for (const key of [
      objectKey(cache, tenantA, 'kept'),
      objectKey(cache, tenantA, 'evicted'),
      objectKey(cacheB, tenantB, 'h1'),
    ]) {
      utimesSync(join(root, ...key.split('/')), hourAgo, hourAgo);
    }
    const deps = {
      jobs: new TrainingJobsRepository(db),
      models: new ModelsRepository(db),
      store,
      uploadTmpDir: join(root, 'tmp'),
      embeddings: index,
    };
    // One tenant per sweep, in rotation: two sweeps for the two tenants.
    const orphans = [objectKey(cache, tenantA, 'evicted'), objectKey(cacheB, tenantB, 'h1')];
    const first = await sweepOrphans(deps, 60_000, (_what, step) => step());
    expect(first.embeddingObjects).toBe(1);
    const exists = await Promise.all(orphans.map((key) => store.exists(key)));
    expect(exists.filter(Boolean).length).toBe(1);
    const second = await sweepOrphans(deps, 60_000, (_what, step) => step());
    expect(second.embeddingObjects).toBe(1);
    const left = (await store.list(embeddingsPrefix(tenantA))).map((e) => e.key).sort();
    const keyOf = (hash: string) => objectKey(cache, tenantA, hash);
    expect(left).toEqual([keyOf('kept'), keyOf('young')].sort());
    expect(await store.list(embeddingsPrefix(tenantB))).toEqual([]);
    expect(await cache.get(CONTEXT, [{ contentHash: 'kept', mirrored: false }])).toEqual([
      outputsOf(1),
    ]);
  });
});

describe('expiry', () => {
  it(`removes entries unused for ${EMBEDDING_MAX_IDLE_DAYS} days, rows then objects`, async () => {
    const store = newStore();
    const cache = cacheOf(store, tenantA);
    const cacheB = cacheOf(store, tenantB);
    await cache.put(CONTEXT, [entry('stale', 1), entry('recent', 2), entry('fresh', 3)]);
    await cacheB.put(CONTEXT, [entry('stale', 4)]);
    const day = 24 * 3_600_000;
    const lastUsed = async (c: TenantEmbeddings, tenantId: string, hash: string, days: number) =>
      db.embeddingCacheEntry.update({
        where: { tenantId_key: { tenantId, key: c.keyOf(CONTEXT, hash, false) } },
        data: { lastUsedAt: new Date(Date.now() - days * day) },
      });
    await lastUsed(cache, tenantA, 'stale', EMBEDDING_MAX_IDLE_DAYS + 1);
    await lastUsed(cache, tenantA, 'recent', EMBEDDING_MAX_IDLE_DAYS - 1);
    await lastUsed(cacheB, tenantB, 'stale', EMBEDDING_MAX_IDLE_DAYS + 2);
    const deps = {
      jobs: new TrainingJobsRepository(db),
      models: new ModelsRepository(db),
      store,
      uploadTmpDir: join(tmpdir(), 'graft-no-uploads'),
      embeddings: index,
    };
    // Objects are an hour old at most: only expiry removes any here.
    const counts = await sweepOrphans(deps, 3_600_000, (_what, step) => step());
    expect(counts.embeddingObjects).toBe(2);
    const hashes = ['stale', 'recent', 'fresh'].map((h) => ({ contentHash: h, mirrored: false }));
    const got = await cache.get(CONTEXT, hashes);
    expect(got).toEqual([undefined, outputsOf(2), outputsOf(3)]);
    expect(await store.exists(objectKey(cache, tenantA, 'stale'))).toBe(false);
    expect(await store.exists(objectKey(cacheB, tenantB, 'stale'))).toBe(false);
    expect(await index.totalBytes(tenantB)).toBe(0);
    // Used again (the read above), 'recent' starts its 30 days anew.
    expect(await expireEmbeddings(store, index)).toBe(0);
    expect(await index.totalBytes(tenantA)).toBe(2 * ENTRY_BYTES);
  });
});

describe('the embedding format', () => {
  it('round-trips arrays of any length and refuses anything else', () => {
    const outputs = [new Float32Array([1.5, -2, Number.NaN]), new Float32Array(0)];
    const bytes = encodeEmbedding('k', outputs);
    expect(decodeEmbedding('k', bytes)).toEqual(outputs);
    // At an odd offset in a larger buffer, as a pooled read may give it.
    const shifted = Buffer.concat([Buffer.alloc(1), bytes]).subarray(1);
    expect(decodeEmbedding('k', shifted)).toEqual(outputs);
    expect(decodeEmbedding('other key', bytes)).toBeUndefined();
    expect(decodeEmbedding('k', bytes.subarray(0, bytes.length - 4))).toBeUndefined();
    expect(decodeEmbedding('k', Buffer.concat([bytes, Buffer.alloc(4)]))).toBeUndefined();
    expect(decodeEmbedding('k', Buffer.alloc(3))).toBeUndefined();
    const huge = Buffer.from(bytes);
    huge.writeUInt32LE(0xffffffff, 8);
    expect(decodeEmbedding('k', huge)).toBeUndefined();
  });

  it('names a base by its weights, not by where it came from', () => {
    const artifacts = (byte: number): tf.io.ModelArtifacts => ({
      modelTopology: { class_name: 'Model' },
      weightSpecs: [{ name: 'w', shape: [2], dtype: 'float32' }],
      weightData: new Uint8Array([0, 0, 128, byte, 0, 0, 0, 64]).buffer,
    });
    expect(baseModelDigest(artifacts(63))).toBe(baseModelDigest(artifacts(63)));
    expect(baseModelDigest(artifacts(63))).not.toBe(baseModelDigest(artifacts(62)));
    const split = { ...artifacts(63), weightData: [new Uint8Array([0, 0, 128, 63]).buffer] };
    expect(baseModelDigest(split)).not.toBe(baseModelDigest(artifacts(63)));
  });
});

describe('the embedding cache on S3', () => {
  it('round-trips and evicts through an S3 store', async () => {
    const server = await startS3Server();
    const client = server.client();
    try {
      const store = new S3ArtifactStore({ client, bucket: server.bucket, prefix: 'graft' });
      const cache = cacheOf(store, tenantA, { budgetBytes: 2.5 * ENTRY_BYTES });
      await cache.put(CONTEXT, [entry('h1', 1), entry('h2', 2, true)]);
      const got = await cache.get(CONTEXT, [
        { contentHash: 'h1', mirrored: false },
        { contentHash: 'h2', mirrored: true },
        { contentHash: 'h2', mirrored: false },
      ]);
      expect(got).toEqual([outputsOf(1), outputsOf(2), undefined]);
      await sleep(5);
      await cache.put(CONTEXT, [entry('h3', 3)]);
      expect(await index.totalBytes(tenantA)).toBe(2 * ENTRY_BYTES);
      expect((await store.list(embeddingsPrefix(tenantA))).length).toBe(2);
      expect(
        await cacheOf(store, tenantB).get(CONTEXT, [{ contentHash: 'h3', mirrored: false }]),
      ).toEqual([undefined]);
    } finally {
      client.destroy();
      await server.close();
    }
  });
});
