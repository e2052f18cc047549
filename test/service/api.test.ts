import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { OPENAPI_PATH } from '../../src/api/app.js';
import { colourDataset, multipart, photo, zip } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';

let h: Harness;
let key: string;
let otherKey: string;

beforeAll(async () => {
  h = await startHarness({ worker: false, env: { GRAFT_MAX_UPLOAD_BYTES: String(3 * 1024 ** 2) } });
  key = await h.newKey('acme');
  otherKey = await h.newKey('globex');
});

afterAll(async () => {
  await h?.close();
});

const auth = (k = key) => ({ authorization: `Bearer ${k}` });

async function upload(content: Buffer, k = key, fields: Record<string, string> = {}) {
  const body = multipart('data.zip', content, fields);
  return h.app.inject({
    method: 'POST',
    url: '/v1/datasets',
    payload: body.payload,
    headers: { ...body.headers, ...auth(k) },
  });
}

async function storedState() {
  const datasets = await h.db.dataset.count();
  const images = await h.db.datasetImage.count();
  const dir = join(h.config.dataDir, 'artifacts', 'datasets');
  const tmp = join(h.config.dataDir, 'tmp');
  const list = (path: string) => {
    try {
      return readdirSync(path);
    } catch {
      return [];
    }
  };
  return { datasets, images, folders: list(dir).length, tmp: list(tmp).length };
}

describe('datasets', () => {
  it('accepts a zip of class folders, skipping and listing what is not an image', async () => {
    const response = await upload(
      await colourDataset(4, {
        'colours/red/readme.txt': 'hello',
        'colours/blue/broken.jpg': 'not a jpeg',
        '__MACOSX/colours/._r0.jpg': 'junk',
      }),
      key,
      { name: 'colours' },
    );
    expect(response.statusCode).toBe(201);
    const body = response.json<Record<string, unknown>>();
    expect(body).toMatchObject({
      name: 'colours',
      status: 'ready',
      imageCount: 8,
      split: 'none',
      classes: [
        { name: 'blue', count: 4 },
        { name: 'red', count: 4 },
      ],
    });
    expect((body.rejected as { path: string }[]).map((r) => r.path).sort()).toEqual([
      'colours/blue/broken.jpg',
      'colours/red/readme.txt',
    ]);
    const listed = await h.app.inject({ url: '/v1/datasets', headers: auth() });
    expect(listed.json<{ total: number }>().total).toBeGreaterThanOrEqual(1);
  });

  it('reads train/ and val/ splits', async () => {
    const files: Record<string, Buffer> = {};
    for (const split of ['train', 'val']) {
      for (let i = 0; i < 2; i++) {
        files[`${split}/cats/${i}.jpg`] = await photo([200, 150, 100], i);
        files[`${split}/dogs/${i}.jpg`] = await photo([90, 90, 90], i + 9);
      }
    }
    const response = await upload(await zip(files));
    expect(response.statusCode).toBe(201);
    expect(response.json()).toMatchObject({ split: 'given', imageCount: 8 });
  });

  it('reports duplicates, train/val leakage and small images at upload', async () => {
    const same = await photo([200, 150, 100], 1);
    const files: Record<string, Buffer> = {
      'train/cats/a.jpg': same,
      'train/cats/a-copy.jpg': same,
      'val/cats/a-again.jpg': same,
      'train/cats/b.jpg': await photo([200, 150, 100], 2),
      'val/cats/c.jpg': await photo([200, 150, 100], 3),
      'train/dogs/d.jpg': await photo([90, 90, 90], 4),
      'val/dogs/e.jpg': await photo([90, 90, 90], 5),
    };
    const response = await upload(await zip(files));
    expect(response.statusCode).toBe(201);
    const { report } = response.json<{
      report: { warnings: { code: string; examples: string[] }[] } & Record<string, unknown>;
    }>();
    expect(report).toMatchObject({
      images: 7,
      duplicateGroups: 1,
      leakedValImages: 1,
      greyImages: 0,
      colourImages: 7,
      smallImages: 7,
    });
    const warning = (code: string) => report.warnings.find((w) => w.code === code);
    expect(warning('duplicates')!.examples).toEqual([
      'train/cats/a.jpg = train/cats/a-copy.jpg = val/cats/a-again.jpg',
    ]);
    expect(warning('train_val_leakage')!.examples).toEqual(['val/cats/a-again.jpg']);
    expect(warning('small_classes')!.examples).toEqual(['dogs: 2', 'cats: 5']);
    expect(warning('conflicting_labels')).toBeUndefined();
    // The same report comes back with the dataset.
    const id = response.json<{ id: string }>().id;
    const again = await h.app.inject({ url: `/v1/datasets/${id}`, headers: auth() });
    expect(again.json<{ report: unknown }>().report).toEqual(report);
  });

  const badUploads: [string, () => Promise<Buffer>, number, string][] = [
    [
      'not a zip',
      () => Promise.resolve(Buffer.from('just some text, not a zip')),
      400,
      'invalid_archive',
    ],
    [
      'path traversal',
      async () => {
        const evil = await zip({
          'xx/red/a.jpg': await photo([1, 2, 3], 1),
          'ok/blue/b.jpg': await photo([3, 2, 1], 2),
        });
        return Buffer.from(
          evil.toString('latin1').replaceAll('xx/red/a.jpg', '../red/a.jpg'),
          'latin1',
        );
      },
      400,
      'unsafe_path',
    ],
    [
      'zip bomb',
      () =>
        zip({
          'bomb/red/a.jpg': Buffer.alloc(20 * 1024 ** 2),
          'bomb/blue/b.jpg': Buffer.alloc(10),
        }),
      413,
      'zip_bomb',
    ],
    [
      'a single class',
      () =>
        colourDataset(3).then(async () =>
          zip({
            'only/x1.jpg': await photo([1, 1, 1], 1),
            'only/x2.jpg': await photo([1, 1, 1], 2),
          }),
        ),
      422,
      'too_few_classes',
    ],
    [
      'too few images per class',
      async () =>
        zip({
          'red/a.jpg': await photo([200, 0, 0], 1),
          'blue/b.jpg': await photo([0, 0, 200], 2),
        }),
      422,
      'too_few_images',
    ],
    [
      'too large an upload',
      () => Promise.resolve(Buffer.alloc(4 * 1024 ** 2, 7)),
      413,
      'upload_too_large',
    ],
  ];

  it.each(badUploads)(
    'refuses %s with problem+json and stores nothing',
    async (_name, make, status, code) => {
      const before = await storedState();
      const response = await upload(await make());
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({ status, code });
      expect(await storedState()).toEqual(before);
    },
  );

  it('lists entries it cannot extract (unsupported compression) as rejected, and refuses control characters in names', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 2; i++) {
      files[`red/r${i}.jpg`] = await photo([200, 30, 30], i);
      files[`blue/b${i}.jpg`] = await photo([30, 30, 200], i);
    }
    files['blue/zzz.jpg'] = await photo([30, 30, 200], 9);
    const archive = await zip(files);
    // Mark blue/zzz.jpg as bzip2-compressed (method 12) in its local and central headers.
    const name = Buffer.from('blue/zzz.jpg');
    for (const [signature, nameOffset, methodOffset] of [
      [0x04034b50, 30, 8],
      [0x02014b50, 46, 10],
    ] as const) {
      for (let at = 0; at < archive.length - 4; at++) {
        if (
          archive.readUInt32LE(at) === signature &&
          archive.subarray(at + nameOffset, at + nameOffset + name.length).equals(name)
        ) {
          archive.writeUInt16LE(12, at + methodOffset);
        }
      }
    }
    const response = await upload(archive);
    expect(response.statusCode).toBe(201);
    expect(response.json<{ rejected: { path: string; reason: string }[] }>().rejected).toEqual([
      {
        path: 'blue/zzz.jpg',
        reason: expect.stringMatching(/could not be extracted: .*compression method/) as string,
      },
    ]);

    const before = await storedState();
    const named = Buffer.from(
      (await zip(files)).toString('latin1').replaceAll('red/r0.jpg', 'red/r\u0001.jpg'),
      'latin1',
    );
    const refused = await upload(named);
    expect(refused.json()).toMatchObject({ status: 400, code: 'invalid_file_name' });
    expect(await storedState()).toEqual(before);
  });

  it('answers 400, not 500, for an id that is not a UUID', async () => {
    const response = await h.app.inject({ url: '/v1/datasets/not-a-uuid', headers: auth() });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('refuses a request without a file, or that is not multipart', async () => {
    const noFile = multipart('x', Buffer.alloc(0), { name: 'x' }, 'other');
    const response = await h.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      payload: noFile.payload,
      headers: { ...noFile.headers, ...auth() },
    });
    expect(response.statusCode).toBe(400);
    const json = await h.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      payload: { file: 'x' },
      headers: auth(),
    });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toMatchObject({ code: 'not_multipart' });
  });
});

describe('jobs', () => {
  let datasetId: string;
  beforeAll(async () => {
    datasetId = (await upload(await colourDataset(3))).json<{ id: string }>().id;
  });

  const submit = (body: Record<string, unknown>, k = key) =>
    h.app.inject({ method: 'POST', url: '/v1/jobs', payload: body, headers: auth(k) });

  it('queues a job with documented defaults, and cancels it while queued', async () => {
    const response = await submit({ datasetId });
    expect(response.statusCode).toBe(202);
    const job = response.json<{
      id: string;
      status: string;
      spec: Record<string, unknown>;
      baseModel: string;
    }>();
    expect(job.status).toBe('queued');
    expect(job.baseModel).toBe('mobilenet_v2_0.35');
    expect(job.spec).toMatchObject({
      featureExtraction: { epochs: 100, learningRate: 0.05 },
      search: { enabled: true, folds: 5, hiddenUnits: [] },
      baseline: { enabled: true, allowShip: true },
      classWeights: 'auto',
      augmentation: { horizontalFlip: 'auto' },
      fineTuning: { enabled: true, epochs: 5, learningRate: 0.0001, patience: 2 },
      validationSplit: 0.2,
      seed: 42,
    });
    expect(await h.queue.getJob(job.id)).toBeDefined();

    const inUse = await h.app.inject({
      method: 'DELETE',
      url: `/v1/datasets/${datasetId}`,
      headers: auth(),
    });
    expect(inUse.statusCode).toBe(409);

    const cancelled = await h.app.inject({
      method: 'POST',
      url: `/v1/jobs/${job.id}/cancel`,
      headers: auth(),
    });
    expect(cancelled.statusCode).toBe(202);
    expect(cancelled.json()).toMatchObject({ status: 'cancelled' });
    const listed = await h.app.inject({ url: '/v1/jobs?limit=5', headers: auth() });
    expect(listed.json<{ items: { id: string }[] }>().items[0]!.id).toBe(job.id);
  });

  it.each([
    [
      'fine-tuning rate not below the head rate',
      { featureExtraction: { learningRate: 0.001 }, fineTuning: { learningRate: 0.002 } },
      422,
      /must be lower than featureExtraction\.learningRate/,
    ],
    ['an unknown base model', { baseModel: 'resnet9000' }, 422, /unknown baseModel 'resnet9000'/],
    ['a local path as base model', { baseModel: '/etc' }, 422, /unknown baseModel/],
    [
      'an invalid unfreeze point',
      { baseModel: 'mobilenet_v2_0.35', fineTuning: { unfreezeFrom: 'block_3_depthwise' } },
      422,
      /not a layer mobilenet_v2_0\.35 can be unfrozen from/,
    ],
    ['an unknown field', { colour: 'blue' }, 400, /must NOT have additional properties/],
    ['a wrong type', { featureExtraction: { epochs: 'ten' } }, 400, /must be integer/],
  ])('refuses %s, saying why', async (_name, spec, status, detail) => {
    const response = await submit({ datasetId, ...spec });
    expect(response.statusCode).toBe(status);
    expect(response.json<{ detail: string }>().detail).toMatch(detail);
  });

  it('refuses a dataset that is not the caller’s', async () => {
    const response = await submit({ datasetId }, otherKey);
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ code: 'unknown_dataset' });
    expect((await submit({ datasetId: 'not-a-uuid' })).statusCode).toBe(422);
  });
});

describe('tenancy and auth', () => {
  it('answers 404 for another tenant’s resources and 401 without a valid key', async () => {
    const dataset = (await upload(await colourDataset(2))).json<{ id: string }>();
    expect(
      (await h.app.inject({ url: `/v1/datasets/${dataset.id}`, headers: auth(otherKey) }))
        .statusCode,
    ).toBe(404);
    expect(
      (
        await h.app.inject({
          method: 'DELETE',
          url: `/v1/datasets/${dataset.id}`,
          headers: auth(otherKey),
        })
      ).statusCode,
    ).toBe(404);
    const theirs = await h.app.inject({ url: '/v1/datasets', headers: auth(otherKey) });
    expect(theirs.json<{ items: { id: string }[] }>().items.map((d) => d.id)).not.toContain(
      dataset.id,
    );
    expect((await h.app.inject({ url: '/v1/datasets' })).statusCode).toBe(401);
    expect(
      (
        await h.app.inject({
          url: '/v1/datasets',
          headers: auth('graft_aaaaaaaaaaaa_' + 'x'.repeat(32)),
        })
      ).statusCode,
    ).toBe(401);
    const deleted = await h.app.inject({
      method: 'DELETE',
      url: `/v1/datasets/${dataset.id}`,
      headers: auth(),
    });
    expect(deleted.statusCode).toBe(204);
  });
});

describe('health and docs', () => {
  it('reports readiness without auth', async () => {
    expect((await h.app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await h.app.inject({ url: '/readyz' })).json()).toMatchObject({
      status: 'ready',
      postgres: true,
      redis: true,
    });
  });

  it('lists the base-model catalog with its default', async () => {
    const response = await h.app.inject({ url: '/v1/base-models', headers: auth() });
    expect(response.json()).toMatchObject({ default: 'mobilenet_v2_0.35' });
  });

  it('documents every route in openapi.yaml, and serves it at /docs', async () => {
    const spec = parse(readFileSync(OPENAPI_PATH, 'utf8')) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = new Set(
      Object.entries(spec.paths).flatMap(([path, methods]) =>
        Object.keys(methods)
          .filter((m) => m !== 'parameters')
          .map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    expect(h.app.apiRoutes.length).toBeGreaterThanOrEqual(13);
    for (const route of h.app.apiRoutes) expect(documented).toContain(route);
    expect((await h.app.inject({ url: '/docs/json' })).json<{ paths: object }>().paths).toEqual(
      spec.paths,
    );
  });
});
