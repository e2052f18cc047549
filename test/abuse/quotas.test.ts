import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import { TenantsRepository } from '../../src/db/tenants.repository.js';
import { file, formBody, injectClient, type GraftClient } from '../client/graft-client.js';
import { colourDataset } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';

/*
 * Quota breaches against the real server: each answers problem+json `quota_exceeded` naming
 * the quota, its limit and the use, stores nothing, and leaves other tenants alone; a tenant's
 * own limit lifts a default; GET /v1/usage shows it all. Defaults here are tiny on purpose.
 */

let h: Harness;
let tenants: TenantsRepository;
let zipBytes: number;

beforeAll(async () => {
  h = await startHarness({
    worker: false,
    env: {
      GRAFT_RATE_LIMITS: 'off',
      GRAFT_QUOTA_DATASETS: '2',
      GRAFT_QUOTA_QUEUED_JOBS: '2',
      GRAFT_QUOTA_EPOCHS_PER_PHASE: '150',
      GRAFT_QUOTA_MODELS: '10',
    },
  });
  tenants = new TenantsRepository(h.db, h.config.quotas);
  zipBytes = (await colourDataset(4)).length;
});

afterAll(async () => {
  await h?.close();
});

async function tenant(name: string) {
  const key = await h.newKey(name);
  const { id } = await h.db.tenant.findUniqueOrThrow({ where: { name } });
  return { key, id, api: injectClient(h.app, key) };
}

const upload = async (api: GraftClient) =>
  api.POST(
    '/v1/datasets',
    formBody('/v1/datasets', { file: file(await colourDataset(4), 'data.zip', 'application/zip') }),
  );

/** The id of a new dataset (and why not, if the upload failed). */
async function datasetOf(api: GraftClient): Promise<string> {
  const { data, error, response } = await upload(api);
  expect({ status: response.status, error }).toEqual({ status: 201, error: undefined });
  return data!.id;
}

const submit = (api: GraftClient, datasetId: string, spec: Record<string, unknown> = {}) =>
  api.POST('/v1/jobs', { body: { datasetId, ...spec } });

async function usage(key: string) {
  const response = await h.app.inject({
    method: 'GET',
    url: '/v1/usage',
    headers: { authorization: `Bearer ${key}` },
  });
  expect(response.statusCode).toBe(200);
  return response.json<{
    tenant: string;
    quotas: Record<string, { limit: number; used: number | null; own: boolean }>;
  }>();
}

const overQuota = (status: number, quota: string, limit: number, used: number, requested = 1) => ({
  type: 'urn:graft:problem:quota_exceeded',
  title: 'quota exceeded',
  status,
  detail: expect.stringContaining(`quota ${quota}`) as string,
  code: 'quota_exceeded',
  quota,
  limit,
  used,
  requested,
});

function folderNames(): string[] {
  try {
    return readdirSync(join(h.config.dataDir, 'artifacts', 'datasets'));
  } catch {
    return [];
  }
}

async function stored(tenantId: string) {
  const datasets = await h.db.dataset.count({ where: { tenantId } });
  return { datasets, folders: folderNames().length };
}

describe('dataset quotas', () => {
  it('refuses a dataset over the datasets quota (403) and leaves other tenants alone', async () => {
    const acme = await tenant('stock');
    const other = await tenant('stock-neighbour');
    for (let i = 0; i < 2; i++) expect((await upload(acme.api)).response.status).toBe(201);
    const before = await stored(acme.id);
    const { error, response } = await upload(acme.api);
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(error).toEqual(overQuota(403, 'datasets', 2, 2));
    expect(await stored(acme.id)).toEqual(before);
    expect((await upload(other.api)).response.status).toBe(201);

    // The tenant's own limit lifts the default, for it alone.
    await tenants.setQuota(acme.id, 'datasets', 3);
    expect((await upload(acme.api)).response.status).toBe(201);
    expect((await usage(acme.key)).quotas.datasets).toEqual({ limit: 3, used: 3, own: true });
    expect((await usage(other.key)).quotas.datasets).toEqual({ limit: 2, used: 1, own: false });
    await tenants.setQuota(acme.id, 'datasets', null);
    expect((await usage(acme.key)).quotas.datasets).toEqual({ limit: 2, used: 3, own: false });
  });

  it('lets only one of two parallel uploads take the last slot', async () => {
    const racer = await tenant('race');
    expect((await upload(racer.api)).response.status).toBe(201);
    const results = await Promise.all([upload(racer.api), upload(racer.api)]);
    expect(results.map((r) => r.response.status).sort()).toEqual([201, 403]);
    expect(results.find((r) => r.error)!.error).toEqual(overQuota(403, 'datasets', 2, 2));
    expect(await h.db.dataset.count({ where: { tenantId: racer.id } })).toBe(2);
    // The loser's images were removed: every folder belongs to a dataset.
    const ids = new Set((await h.db.dataset.findMany({ select: { id: true } })).map((d) => d.id));
    expect(folderNames().filter((name) => !ids.has(name))).toEqual([]);
  });

  it('refuses a zip larger than the bytes left before inflating it (403 storedBytes)', async () => {
    const acme = await tenant('bytes');
    await tenants.setQuota(acme.id, 'storedBytes', zipBytes + 10);
    const first = await upload(acme.api);
    expect(first.response.status).toBe(201);
    const used = (await usage(acme.key)).quotas.storedBytes!;
    // The stored images, not the zip's headers.
    expect(used.used).toBeGreaterThan(0);
    expect(used.used).toBeLessThanOrEqual(zipBytes);
    expect(used).toMatchObject({ limit: zipBytes + 10, own: true });
    const before = await stored(acme.id);
    const { error, response } = await upload(acme.api);
    expect(response.status).toBe(403);
    // `requested` is the zip's size: refused on it, before anything was inflated.
    expect(error).toEqual(overQuota(403, 'storedBytes', zipBytes + 10, used.used!, zipBytes));
    expect(await stored(acme.id)).toEqual(before);
  });

  it('stops reading a dataset with more images than allowed (413 imagesPerDataset)', async () => {
    const acme = await tenant('images');
    await tenants.setQuota(acme.id, 'imagesPerDataset', 5);
    const before = await stored(acme.id);
    const { error, response } = await upload(acme.api);
    expect(response.status).toBe(413);
    expect(error).toEqual(overQuota(413, 'imagesPerDataset', 5, 6, 6));
    expect(await stored(acme.id)).toEqual(before);
    await tenants.setQuota(acme.id, 'imagesPerDataset', 8);
    expect((await upload(acme.api)).response.status).toBe(201);
  });

  it('checks again, under the tenant’s lock, when the row is written', async () => {
    const acme = await tenant('bytes-at-insert');
    const datasets = new DatasetsRepository(h.db);
    const dataset = (id: string, sizeBytes: number) => ({
      id,
      tenantId: acme.id,
      name: id.slice(0, 8),
      classes: [],
      rejected: [],
      rejectedCount: 0,
      split: 'none' as const,
      sizeBytes,
      images: [],
      report: {} as never,
    });
    const limits = { datasets: 10, storedBytes: 1000 };
    expect(await datasets.create(dataset(crypto.randomUUID(), 600), limits)).toHaveProperty(
      'dataset',
    );
    expect(await datasets.create(dataset(crypto.randomUUID(), 500), limits)).toEqual({
      breach: { quota: 'storedBytes', limit: 1000, used: 600, requested: 500 },
    });
    expect(await h.db.dataset.count({ where: { tenantId: acme.id } })).toBe(1);

    // Inserts racing for the last dataset slot, their image rows keeping each transaction open
    // long enough to overlap: one wins, whatever the timing.
    const images = (id: string) =>
      Array.from({ length: 2000 }, (_, i) => ({
        path: `a/${i}.jpg`,
        label: 'a',
        split: null,
        storageKey: `datasets/${id}/${i}.jpg`,
        width: 1,
        height: 1,
        bytes: 0,
        contentHash: '',
        grey: false,
      }));
    const race = await Promise.all(
      Array.from({ length: 6 }, () => {
        const id = crypto.randomUUID();
        return datasets.create(
          { ...dataset(id, 1), images: images(id) },
          { datasets: 2, storedBytes: 10_000 },
        );
      }),
    );
    expect(race.filter((outcome) => 'dataset' in outcome)).toHaveLength(1);
    expect(await h.db.dataset.count({ where: { tenantId: acme.id } })).toBe(2);
  });
});

describe('job quotas', () => {
  it('refuses a job over the queued-jobs quota (429), not another tenant’s', async () => {
    const acme = await tenant('jobs');
    const other = await tenant('jobs-neighbour');
    const datasetId = await datasetOf(acme.api);
    const otherDataset = await datasetOf(other.api);
    const queued: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { data, response } = await submit(acme.api, datasetId);
      expect(response.status).toBe(202);
      queued.push(data!.id);
    }
    const { error, response } = await submit(acme.api, datasetId);
    expect(response.status).toBe(429);
    expect(error).toEqual(overQuota(429, 'queuedJobs', 2, 2));
    expect(await h.db.trainingJob.count({ where: { tenantId: acme.id } })).toBe(2);
    expect((await submit(other.api, otherDataset)).response.status).toBe(202);

    const seen = await usage(acme.key);
    expect(seen.tenant).toBe('jobs');
    expect(seen.quotas).toMatchObject({
      datasets: { limit: 2, used: 1, own: false },
      queuedJobs: { limit: 2, used: 2, own: false },
      concurrentJobs: { used: 0 },
      models: { limit: 10, used: 2 },
      epochsPerPhase: { limit: 150, used: null },
      wallSeconds: { used: null },
      imagesPerDataset: { used: null },
    });
    expect(Object.keys(seen.quotas).sort()).toEqual(
      [
        'concurrentJobs',
        'datasets',
        'epochsPerPhase',
        'imagesPerDataset',
        'models',
        'queuedJobs',
        'storedBytes',
        'wallSeconds',
      ].sort(),
    );

    // A cancelled job frees its slot.
    await acme.api.POST('/v1/jobs/{id}/cancel', { params: { path: { id: queued[0]! } } });
    expect((await submit(acme.api, datasetId)).response.status).toBe(202);
  });

  it('admits no more parallel submissions than the queued-jobs quota', async () => {
    const acme = await tenant('jobs-race');
    const datasetId = await datasetOf(acme.api);
    const results = await Promise.all(Array.from({ length: 6 }, () => submit(acme.api, datasetId)));
    expect(results.map((r) => r.response.status).sort()).toEqual([202, 202, 429, 429, 429, 429]);
    expect(await h.db.trainingJob.count({ where: { tenantId: acme.id } })).toBe(2);
  });

  it('refuses a spec asking for more epochs per phase than allowed (422)', async () => {
    const acme = await tenant('epochs');
    const datasetId = await datasetOf(acme.api);
    const head = await submit(acme.api, datasetId, { featureExtraction: { epochs: 160 } });
    expect(head.response.status).toBe(422);
    expect(head.error).toEqual(overQuota(422, 'epochsPerPhase', 150, 160, 160));
    const tune = await submit(acme.api, datasetId, { fineTuning: { epochs: 151 } });
    expect(tune.error).toEqual(overQuota(422, 'epochsPerPhase', 150, 151, 151));
    // Fine-tuning that does not run asks for no epochs.
    const off = await submit(acme.api, datasetId, {
      featureExtraction: { epochs: 150 },
      fineTuning: { enabled: false, epochs: 500 },
    });
    expect(off.response.status).toBe(202);
    expect(await h.db.trainingJob.count({ where: { tenantId: acme.id } })).toBe(1);
  });

  it('counts the models queued jobs will make against the models quota (403)', async () => {
    const acme = await tenant('models');
    await tenants.setQuota(acme.id, 'models', 1);
    const datasetId = await datasetOf(acme.api);
    expect((await submit(acme.api, datasetId)).response.status).toBe(202);
    const { error, response } = await submit(acme.api, datasetId);
    expect(response.status).toBe(403);
    expect(error).toEqual(overQuota(403, 'models', 1, 1));
  });
});
