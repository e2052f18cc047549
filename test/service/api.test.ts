import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { TRAINING_JOB_PAYLOAD_VERSION } from '../../src/contracts/training-job.js';
import { TRAIN_JOB_NAME } from '../../src/queue/training-queue.js';
import { OPENAPI_YAML as OPENAPI_PATH } from '../client/client-types.js';
import { file, formBody, injectClient, type GraftClient } from '../client/graft-client.js';
import type { paths } from '../client/openapi-types.js';
import { colourDataset, multipart, photo, zip } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';

let h: Harness;
let key: string;
let api: GraftClient;
let globex: GraftClient;

beforeAll(async () => {
  h = await startHarness({ worker: false, env: { GRAFT_MAX_UPLOAD_BYTES: String(3 * 1024 ** 2) } });
  key = await h.newKey('acme');
  api = injectClient(h.app, key);
  globex = injectClient(h.app, await h.newKey('globex'));
});

afterAll(async () => {
  await h?.close();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const PROBLEM_JSON = /^application\/problem\+json/;
const FIRST_PAGE = { query: { limit: 20, offset: 0 } };

/** The problem+json body of an error with this status and code. */
const problem = (status: number, code: string, detail: unknown = expect.any(String)) => ({
  type: `urn:graft:problem:${code}`,
  title: code.replaceAll('_', ' '),
  status,
  detail,
  code,
});

const upload = (content: Buffer, client = api, name?: string) =>
  client.POST(
    '/v1/datasets',
    formBody('/v1/datasets', {
      file: file(content, 'data.zip', 'application/zip'),
      ...(name === undefined ? {} : { name }),
    }),
  );

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

/** The small-image warning for 48 px photos, in the order they were read. */
const smallImages = (paths: string[]) => ({
  code: 'small_images',
  message: expect.stringMatching(
    /^\d+ image\(s\) are under 112 px on their shorter side/,
  ) as string,
  examples: paths.map((path) => `${path} (48×48)`),
});

describe('datasets', () => {
  it('accepts a zip of class folders, skipping and listing what is not an image', async () => {
    const { data, response } = await upload(
      await colourDataset(4, {
        'colours/red/readme.txt': 'hello',
        'colours/blue/broken.jpg': 'not a jpeg',
        '__MACOSX/colours/._r0.jpg': 'junk',
      }),
      api,
      'colours',
    );
    expect(response.status).toBe(201);
    const { rejected, ...dataset } = data!;
    expect(dataset).toEqual({
      id: expect.stringMatching(UUID) as string,
      name: 'colours',
      status: 'ready',
      imageCount: 8,
      rejectedCount: 2,
      split: 'none',
      classes: [
        { name: 'blue', count: 4 },
        { name: 'red', count: 4 },
      ],
      report: {
        images: 8,
        duplicateGroups: 0,
        leakedValImages: 0,
        imbalanceRatio: 1,
        greyImages: 0,
        colourImages: 8,
        smallImages: 8,
        warnings: [
          {
            code: 'small_classes',
            message: expect.stringMatching(/^2 class\(es\) have fewer than 10 images/) as string,
            examples: ['red: 4', 'blue: 4'],
          },
          smallImages(
            [0, 1, 2, 3].flatMap((i) => [`colours/red/r${i}.jpg`, `colours/blue/b${i}.jpg`]),
          ),
        ],
      },
      createdAt: expect.stringMatching(TIMESTAMP) as string,
    });
    // The macOS resource fork is junk, not a rejected image.
    expect([...rejected].sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      {
        path: 'colours/blue/broken.jpg',
        reason: expect.stringMatching(/^not a decodable image: /) as string,
      },
      { path: 'colours/red/readme.txt', reason: 'not an image file (.txt)' },
    ]);
    const listed = await api.GET('/v1/datasets', { params: FIRST_PAGE });
    expect(listed.data!.items).toContainEqual(data);
    expect(listed.data).toMatchObject({ total: listed.data!.items.length, limit: 20, offset: 0 });
  });

  it('reads train/ and val/ splits', async () => {
    const files: Record<string, Buffer> = {};
    for (const split of ['train', 'val']) {
      for (let i = 0; i < 2; i++) {
        files[`${split}/cats/${i}.jpg`] = await photo([200, 150, 100], i);
        files[`${split}/dogs/${i}.jpg`] = await photo([90, 90, 90], i + 9);
      }
    }
    const { data, response } = await upload(await zip(files));
    expect(response.status).toBe(201);
    expect(data).toMatchObject({
      status: 'ready',
      split: 'given',
      imageCount: 8,
      classes: [
        { name: 'cats', count: 4 },
        { name: 'dogs', count: 4 },
      ],
      rejected: [],
    });
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
    const { data, response } = await upload(await zip(files));
    expect(response.status).toBe(201);
    expect(data!.report).toEqual({
      images: 7,
      duplicateGroups: 1,
      leakedValImages: 1,
      imbalanceRatio: 2.5,
      greyImages: 0,
      colourImages: 7,
      smallImages: 7,
      warnings: [
        {
          code: 'duplicates',
          message: expect.stringMatching(
            /^1 image\(s\) appear more than once \(2 extra copies\)/,
          ) as string,
          examples: ['train/cats/a.jpg = train/cats/a-copy.jpg = val/cats/a-again.jpg'],
        },
        {
          code: 'train_val_leakage',
          message: expect.stringMatching(
            /^1 validation image\(s\) are identical to training images/,
          ) as string,
          examples: ['val/cats/a-again.jpg'],
        },
        {
          code: 'small_classes',
          message: expect.stringMatching(/^2 class\(es\) have fewer than 10 images/) as string,
          examples: ['dogs: 2', 'cats: 5'],
        },
        smallImages(Object.keys(files)),
      ],
    });
    // The same dataset, report included, comes back from GET.
    const again = await api.GET('/v1/datasets/{id}', { params: { path: { id: data!.id } } });
    expect(again.data).toEqual(data);
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
      async () =>
        zip({
          'only/x1.jpg': await photo([1, 1, 1], 1),
          'only/x2.jpg': await photo([1, 1, 1], 2),
        }),
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
      const { error, response } = await upload(await make());
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toMatch(PROBLEM_JSON);
      expect(error).toEqual(problem(status, code));
      expect(await storedState()).toEqual(before);
    },
  );

  it('says which files it skipped when no class is left with images', async () => {
    const { error, response } = await upload(
      await zip({ 'cats/a.txt': Buffer.from('meow'), 'dogs/b.jpg': Buffer.from('not a jpeg') }),
    );
    expect(response.status).toBe(422);
    expect(error).toMatchObject({
      code: 'too_few_classes',
      detail: expect.stringMatching(
        /found 0 \(2 files were skipped: cats\/a\.txt \(.+\), dogs\/b\.jpg/,
      ) as string,
      rejected: [
        { path: 'cats/a.txt', reason: expect.any(String) as string },
        { path: 'dogs/b.jpg', reason: expect.any(String) as string },
      ],
    });
  });

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
    const { data, response } = await upload(archive);
    expect(response.status).toBe(201);
    expect(data).toMatchObject({
      imageCount: 4,
      classes: [
        { name: 'blue', count: 2 },
        { name: 'red', count: 2 },
      ],
      rejected: [
        {
          path: 'blue/zzz.jpg',
          reason: expect.stringMatching(/could not be extracted: .*compression method/) as string,
        },
      ],
    });
    expect(data!.rejected).toHaveLength(1);

    const before = await storedState();
    const named = Buffer.from(
      (await zip(files)).toString('latin1').replaceAll('red/r0.jpg', 'red/r\u0001.jpg'),
      'latin1',
    );
    const refused = await upload(named);
    expect(refused.response.status).toBe(400);
    expect(refused.error).toEqual(problem(400, 'invalid_file_name'));
    expect(await storedState()).toEqual(before);
  });

  it('answers 400, not 500, for an id that is not a UUID', async () => {
    const { error, response } = await api.GET('/v1/datasets/{id}', {
      params: { path: { id: 'not-a-uuid' } },
    });
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(PROBLEM_JSON);
    expect(error).toEqual({
      ...problem(400, 'invalid_request', 'params/id must match format "uuid"'),
      errors: [{ path: '/id', message: 'must match format "uuid"' }],
    });
  });

  it('names the values a field allows, in the detail and in errors', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const { error } = await api.GET('/v1/datasets/{id}/images', {
      params: { path: { id }, query: { split: 'test' as 'train' } },
    });
    expect(error).toEqual({
      ...problem(400, 'invalid_request', 'querystring/split must be one of: "train", "val"'),
      errors: [{ path: '/split', message: 'must be one of: "train", "val"' }],
    });
    const hook = await api.POST('/v1/webhooks', {
      body: { url: 'https://example.com/hook', events: ['progress' as 'state'] },
    });
    expect(hook.error).toEqual({
      ...problem(400, 'invalid_request', 'body/events/0 must be one of: "state", "report"'),
      errors: [{ path: '/events/0', message: 'must be one of: "state", "report"' }],
    });
  });

  it('refuses a request without a file, or that is not multipart', async () => {
    // Raw: the typed client cannot send a form without its required `file` field.
    const noFile = multipart('x', Buffer.alloc(0), { name: 'x' }, 'other');
    const response = await h.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      payload: noFile.payload,
      headers: { ...noFile.headers, authorization: `Bearer ${key}` },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual(problem(400, 'unexpected_file'));
    // Raw: a JSON body is a content type the document does not offer for uploads.
    const json = await h.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      payload: { file: 'x' },
      headers: { authorization: `Bearer ${key}` },
    });
    expect(json.statusCode).toBe(415);
    expect(json.json()).toEqual(problem(415, 'not_multipart'));
  });
});

type JobRequest = Omit<
  paths['/v1/jobs']['post']['requestBody']['content']['application/json'],
  'datasetId'
>;

describe('jobs', () => {
  let datasetId: string;
  beforeAll(async () => {
    datasetId = (await upload(await colourDataset(3))).data!.id;
  });

  const submit = (spec: JobRequest, client = api) =>
    client.POST('/v1/jobs', { body: { datasetId, ...spec } });

  it('queues a job with documented defaults, and cancels it while queued', async () => {
    const { data: job, response } = await submit({});
    expect(response.status).toBe(202);
    expect(job).toEqual({
      id: expect.stringMatching(UUID) as string,
      status: 'queued',
      datasetId,
      baseModel: 'mobilenet_v2_0.35',
      spec: {
        featureExtraction: {
          epochs: 100,
          learningRate: 0.05,
          batchSize: 32,
          dropout: 0.2,
          hiddenUnits: 0,
        },
        fineTuning: { enabled: true, epochs: 5, learningRate: 0.0001, batchSize: 32, patience: 2 },
        augmentation: { horizontalFlip: 'auto' },
        search: { enabled: true, folds: 5, hiddenUnits: [] },
        baseline: { enabled: true, allowShip: true },
        classWeights: 'auto',
        validationSplit: 0.2,
        seed: 42,
      },
      phase: null,
      progress: 0,
      epoch: null,
      epochs: null,
      etaSeconds: null,
      history: [],
      metrics: null,
      modelId: null,
      error: null,
      backend: null,
      cancelRequested: false,
      attempt: 0,
      resumes: [],
      createdAt: expect.stringMatching(TIMESTAMP) as string,
      startedAt: null,
      finishedAt: null,
    });
    const { id } = job!;
    // The queue carries ids and a version, never data.
    expect(await h.queue.getJob(id)).toMatchObject({
      id,
      name: TRAIN_JOB_NAME,
      data: { version: TRAINING_JOB_PAYLOAD_VERSION, jobId: id },
    });

    const inUse = await api.DELETE('/v1/datasets/{id}', {
      params: { path: { id: datasetId } },
    });
    expect(inUse.response.status).toBe(409);
    expect(inUse.error).toEqual(
      problem(
        409,
        'dataset_in_use',
        `dataset ${datasetId} is used by a queued or running job; cancel it first`,
      ),
    );

    const cancelled = await api.POST('/v1/jobs/{id}/cancel', { params: { path: { id } } });
    expect(cancelled.response.status).toBe(202);
    expect(cancelled.data).toEqual({
      ...job,
      status: 'cancelled',
      cancelRequested: true,
      finishedAt: expect.stringMatching(TIMESTAMP) as string,
    });
    expect(await h.queue.getJob(id)).toBeUndefined();
    const listed = await api.GET('/v1/jobs', { params: { query: { limit: 5, offset: 0 } } });
    expect(listed.data).toMatchObject({ limit: 5, offset: 0 });
    expect(listed.data!.items[0]).toEqual(cancelled.data);
  });

  it.each<[string, JobRequest, string, RegExp]>([
    [
      'fine-tuning rate not below the head rate',
      { featureExtraction: { learningRate: 0.001 }, fineTuning: { learningRate: 0.002 } },
      'invalid_spec',
      /must be lower than featureExtraction\.learningRate/,
    ],
    [
      'an unknown base model',
      { baseModel: 'resnet9000' },
      'unknown_base_model',
      /unknown baseModel 'resnet9000'/,
    ],
    [
      'a local path as base model',
      { baseModel: '/etc' },
      'unknown_base_model',
      /unknown baseModel/,
    ],
    [
      'a base model URL while URLs are off (the default)',
      { baseModel: 'https://127.0.0.1:9/nowhere/model.json' },
      'base_model_urls_disabled',
      /GRAFT_ALLOW_BASE_URLS/,
    ],
    [
      'an invalid unfreeze point',
      { baseModel: 'mobilenet_v2_0.35', fineTuning: { unfreezeFrom: 'block_3_depthwise' } },
      'invalid_unfreeze_point',
      /not a layer mobilenet_v2_0\.35 can be unfrozen from/,
    ],
  ])('refuses %s with 422, saying why', async (_name, spec, code, detail) => {
    const { error, response } = await submit(spec);
    expect(response.status).toBe(422);
    expect(error).toMatchObject(problem(422, code, expect.stringMatching(detail)));
  });

  it.each([
    ['an unknown field', { colour: 'blue' }, /must NOT have additional properties/],
    ['a wrong type', { featureExtraction: { epochs: 'ten' } }, /must be integer/],
  ])('refuses %s with 400, saying why', async (_name, spec, detail) => {
    // Raw: the typed client refuses to compile a body the document does not allow.
    const response = await h.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { datasetId, ...spec },
      headers: { authorization: `Bearer ${key}` },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject(
      problem(400, 'invalid_request', expect.stringMatching(detail)),
    );
  });

  it('refuses a dataset that is not the caller’s', async () => {
    const theirs = await submit({}, globex);
    expect(theirs.response.status).toBe(422);
    expect(theirs.error).toEqual(
      problem(422, 'unknown_dataset', `datasetId ${datasetId} is not one of your datasets`),
    );
    const malformed = await api.POST('/v1/jobs', { body: { datasetId: 'not-a-uuid' } });
    expect(malformed.response.status).toBe(422);
    expect(malformed.error).toEqual(
      problem(422, 'unknown_dataset', 'datasetId not-a-uuid is not one of your datasets'),
    );
  });
});

describe('tenancy and auth', () => {
  it('answers 404 for another tenant’s resources and 401 without a valid key', async () => {
    const { id } = (await upload(await colourDataset(2))).data!;
    const path = { params: { path: { id } } };
    const notFound = problem(404, 'not_found', `dataset ${id} does not exist`);
    const read = await globex.GET('/v1/datasets/{id}', path);
    expect(read.response.status).toBe(404);
    expect(read.error).toEqual(notFound);
    const removed = await globex.DELETE('/v1/datasets/{id}', path);
    expect(removed.response.status).toBe(404);
    expect(removed.error).toEqual(notFound);
    const theirs = await globex.GET('/v1/datasets', { params: FIRST_PAGE });
    expect(theirs.data!.items.map((d) => d.id)).not.toContain(id);

    const anonymous = await injectClient(h.app).GET('/v1/datasets', { params: FIRST_PAGE });
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.error).toEqual(
      problem(401, 'unauthorized', 'send your API key as "Authorization: Bearer <key>"'),
    );
    const forged = injectClient(h.app, 'graft_aaaaaaaaaaaa_' + 'x'.repeat(32));
    const refused = await forged.GET('/v1/datasets', { params: FIRST_PAGE });
    expect(refused.response.status).toBe(401);
    expect(refused.error).toEqual(problem(401, 'unauthorized', 'this API key is not valid'));

    const deleted = await api.DELETE('/v1/datasets/{id}', path);
    expect(deleted.response.status).toBe(204);
    expect(deleted.data).toBeUndefined();
    expect((await api.GET('/v1/datasets/{id}', path)).response.status).toBe(404);
  });
});

describe('health and docs', () => {
  it('reports liveness and readiness without auth', async () => {
    const anonymous = injectClient(h.app);
    expect((await anonymous.GET('/healthz')).data).toEqual({ status: 'ok' });
    const ready = await anonymous.GET('/readyz');
    expect(ready.response.status).toBe(200);
    // Workers of other test files may share this Redis: only the list's presence is certain.
    expect(ready.data).toEqual({
      status: 'ready',
      postgres: true,
      redis: true,
      workers: expect.any(Number) as number,
      underPressure: false,
    });
  });

  it('lists the base-model catalog with its one default', async () => {
    const { data } = await api.GET('/v1/base-models');
    expect(data!.default).toBe('mobilenet_v2_0.35');
    expect(data!.items.filter((m) => m.default).map((m) => m.id)).toEqual(['mobilenet_v2_0.35']);
    expect(data!.items.find((m) => m.id === data!.default)).toMatchObject({
      architecture: 'MobileNetV2',
      inputSize: 224,
      preprocessing: { size: 224, resize: 'cover', valueRange: [-1, 1], channelOrder: 'RGB' },
      featureLayer: 'out_relu',
      defaultUnfreezeFrom: 'Conv_1',
    });
    for (const model of data!.items) {
      expect(model.unfreezePoints).toContain(model.defaultUnfreezeFrom);
      expect(model.preprocessing.size).toBe(model.inputSize);
    }
  });

  it('refuses every documented /v1 operation without a valid API key', async () => {
    const spec = parse(readFileSync(OPENAPI_PATH, 'utf8')) as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    const id = '00000000-0000-4000-8000-000000000000';
    let checked = 0;
    for (const [path, item] of Object.entries(spec.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        if (operation.security?.length === 0) continue;
        expect(path.startsWith('/v1/'), `${method} ${path} needs a key but is outside /v1`).toBe(
          true,
        );
        for (const headers of [{}, { authorization: 'Bearer graft_not_a_real_key' }]) {
          // Raw inject on purpose: the request deliberately lacks what the document requires.
          const response = await h.app.inject({
            method: method.toUpperCase() as 'GET',
            url: path.replace(/\{\w+\}/g, id),
            headers,
          });
          expect(response.statusCode, `${method} ${path}`).toBe(401);
        }
        checked++;
      }
    }
    expect(checked).toBe(27);
  });

  it('serves the committed API document at /docs/json, every route in it', async () => {
    const spec = parse(readFileSync(OPENAPI_PATH, 'utf8')) as { paths: Record<string, object> };
    // Raw: the document's own route is not one of the operations it describes.
    const served = await h.app.inject({ url: '/docs/json' });
    expect(served.json<{ paths: object }>().paths).toEqual(spec.paths);
    const operations = Object.values(spec.paths).flatMap((item) => Object.keys(item));
    expect(operations).toHaveLength(29);
  });
});
