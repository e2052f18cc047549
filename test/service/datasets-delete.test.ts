import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import {
  EmbeddingCacheRepository,
  forgetDatasetEmbeddings,
} from '../../src/db/embedding-cache.repository.js';
import { ModelsRepository } from '../../src/db/models.repository.js';
import type { Db } from '../../src/db/prisma-client.js';
import { TenantsRepository } from '../../src/db/tenants.repository.js';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import { DatasetsService } from '../../src/services/datasets.service.js';
import { LocalArtifactStore } from '../../src/storage/artifact-store.js';
import { embeddingsPrefix, TenantEmbeddings } from '../../src/storage/embedding-cache.js';
import { sweepOrphans } from '../../src/worker/orphan-sweep.js';
import { startTestDatabase, type TestDatabase } from '../worker/worker-database.js';

/*
 * Deleting a dataset takes the tenant's cached embeddings of its images with it, unless another
 * dataset of the tenant still holds the image; another tenant's entries are never touched.
 */

const CONTEXT = 'size=224|cut=top|blocks=0|format=1';

let database: TestDatabase;
let db: Db;
let index: EmbeddingCacheRepository;
let service: DatasetsService;
let store: LocalArtifactStore;
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
  store = new LocalArtifactStore(mkdtempSync(join(tmpdir(), 'graft-dataset-delete-')));
  const config = loadConfig({});
  service = new DatasetsService(
    new DatasetsRepository(db),
    store,
    config,
    new TenantsRepository(db, config.quotas),
  );
  tenantA = (await db.tenant.create({ data: { name: `a-${Math.random()}` } })).id;
  tenantB = (await db.tenant.create({ data: { name: `b-${Math.random()}` } })).id;
});

/** A dataset row of `tenantId` with one image per content hash. */
async function datasetOf(tenantId: string, hashes: string[]): Promise<string> {
  const dataset = await db.dataset.create({
    data: {
      tenantId,
      name: `d-${Math.random()}`,
      imageCount: hashes.length,
      classes: [],
      rejected: [],
      split: 'none',
      sizeBytes: 0n,
      images: {
        create: hashes.map((contentHash, i) => ({
          path: `c/${i}.png`,
          label: 'c',
          storageKey: `k/${i}`,
          width: 1,
          height: 1,
          bytes: 1,
          contentHash,
        })),
      },
    },
  });
  return dataset.id;
}

const cacheOf = (tenantId: string) =>
  new TenantEmbeddings({
    store,
    index,
    tenantId,
    baseDigest: 'a'.repeat(64),
    budgetBytes: 1024 ** 2,
  });

/** Each hash's entry upright and mirrored. */
const entries = (hashes: string[]) =>
  hashes.flatMap((contentHash) =>
    [false, true].map((mirrored) => ({ contentHash, mirrored, outputs: [new Float32Array(4)] })),
  );

/** The content hashes the tenant's cache holds a row for, each once per row. */
async function cachedHashes(tenantId: string): Promise<string[]> {
  const rows = await db.embeddingCacheEntry.findMany({ where: { tenantId } });
  return rows.map((row) => row.contentHash).sort();
}

describe('deleting a dataset', () => {
  it("removes the cached embeddings of its images no other of the tenant's datasets holds", async () => {
    const deleted = await datasetOf(tenantA, ['h1', 'h2', 'h3', 'h3']);
    await datasetOf(tenantA, ['h2', 'h4']);
    await datasetOf(tenantB, ['h1', 'h3']);
    await cacheOf(tenantA).put(CONTEXT, entries(['h1', 'h2', 'h3', 'h4']));
    await cacheOf(tenantB).put(CONTEXT, entries(['h1', 'h3']));

    await service.delete(tenantA, deleted);

    expect(await cachedHashes(tenantA)).toEqual(['h2', 'h2', 'h4', 'h4']);
    expect(await cachedHashes(tenantB)).toEqual(['h1', 'h1', 'h3', 'h3']);
    const cache = cacheOf(tenantA);
    const got = await cache.get(
      CONTEXT,
      ['h1', 'h2', 'h3'].map((contentHash) => ({ contentHash, mirrored: false })),
    );
    expect(got.map((outputs) => outputs !== undefined)).toEqual([false, true, false]);

    // Their objects are the reaper's: the sweep of tenant A's objects removes them.
    const deps = {
      jobs: new TrainingJobsRepository(db),
      models: new ModelsRepository(db),
      store,
      uploadTmpDir: join(tmpdir(), 'graft-no-uploads'),
      embeddings: index,
    };
    const objectsOf = async (tenantId: string) =>
      (await store.list(embeddingsPrefix(tenantId))).length;
    await new Promise((resolve) => setTimeout(resolve, 5));
    let removed = 0;
    for (let sweep = 0; sweep < 2; sweep++) {
      removed += (await sweepOrphans(deps, 1, (_what, step) => step())).embeddingObjects;
    }
    expect(removed).toBe(4);
    expect(await objectsOf(tenantA)).toBe(4);
    expect(await objectsOf(tenantB)).toBe(4);
  });

  it('keeps every cached embedding when the dataset is in use or not the tenant’s', async () => {
    const used = await datasetOf(tenantA, ['h1']);
    const theirs = await datasetOf(tenantB, ['h2']);
    await cacheOf(tenantA).put(CONTEXT, entries(['h1', 'h2']));
    await cacheOf(tenantB).put(CONTEXT, entries(['h2']));
    await db.trainingJob.create({
      data: { tenantId: tenantA, datasetId: used, spec: {}, status: 'running' },
    });
    await expect(service.delete(tenantA, used)).rejects.toMatchObject({ code: 'dataset_in_use' });
    await expect(service.delete(tenantA, theirs)).rejects.toMatchObject({ status: 404 });
    // Even asked directly, a statement under tenant A finds no images in B's dataset.
    const forgotten = await db.$transaction((tx) => forgetDatasetEmbeddings(tx, tenantA, theirs));
    expect(forgotten).toBe(0);
    expect(await cachedHashes(tenantA)).toEqual(['h1', 'h1', 'h2', 'h2']);
    expect(await cachedHashes(tenantB)).toEqual(['h2', 'h2']);
  });
});
