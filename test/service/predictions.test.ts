import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceService } from '../../src/inference/inference.service.js';
import { decodeImage } from '../../src/storage/image-decoder.js';
import type { Preprocessing } from '../../src/training/base-model-catalog.js';
import { file, formBody, injectClient, type GraftClient } from '../client/graft-client.js';
import type { components } from '../client/openapi-types.js';
import { photo } from '../helpers/dataset-zips.js';
import { trainColourModel } from '../helpers/trained-model.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';
import { unzip } from '../helpers/unzip.js';

let h: Harness;
let api: GraftClient;
let key: string;
let modelId: string;
let labels: string[];
let red: Buffer;
let blue: Buffer;

type Prediction = NonNullable<components['schemas']['PredictResponse']['predictions']>[number];

beforeAll(async () => {
  h = await startHarness({ worker: true });
  key = await h.newKey('acme');
  api = injectClient(h.app, key);
  ({ modelId } = await trainColourModel(api));
  labels = (await api.GET('/v1/models/{id}', { params: { path: { id: modelId } } })).data!.labels;
  red = await photo([215, 35, 45], 77);
  blue = await photo([35, 55, 215], 78);
});

afterAll(async () => {
  await h?.close();
});

const PROBLEM_JSON = /^application\/problem\+json/;
const problem = (status: number, code: string, detail: unknown = expect.any(String)) => ({
  type: `urn:graft:problem:${code}`,
  title: code.replaceAll('_', ' '),
  status,
  detail,
  code,
});

type Query = { topK?: number; threshold?: number };
const jpeg = (image: Buffer, name = 'image.jpg') => file(image, name, 'image/jpeg');
const predictPath = (query: Query, id = modelId) => ({
  path: { id },
  // The document marks topK required (it has a default): send the default, 5, unless given.
  query: { topK: 5, ...query },
});
const predictJson = (
  body: { image?: string; images?: string[] },
  query: Query = {},
  client = api,
  id = modelId,
) => client.POST('/v1/models/{id}/predict', { params: predictPath(query, id), body });
const predictFiles = (images: File[], query: Query = {}) =>
  api.POST('/v1/models/{id}/predict', {
    params: predictPath(query),
    ...formBody('/v1/models/{id}/predict', { file: images }),
  });

/** Every class, highest first, scores calibrated probabilities that sum to 1. */
function expectAllClassesRanked(predictions: Prediction[]) {
  expect(predictions.map((p) => p.label).sort()).toEqual([...labels].sort());
  for (let i = 1; i < predictions.length; i++)
    expect(predictions[i - 1]!.score).toBeGreaterThanOrEqual(predictions[i]!.score);
  expect(Math.abs(predictions.reduce((sum, p) => sum + p.score, 0) - 1)).toBeLessThan(1e-5);
}

describe('POST /v1/models/:id/predict', () => {
  it('classifies one multipart image: scores descending, all classes summing to 1', async () => {
    const started = performance.now();
    const { data, response } = await predictFiles([jpeg(red, 'red.jpg')]);
    const roundTrip = performance.now() - started;
    expect(response.status).toBe(200);
    expect(data).toEqual({
      modelId,
      predictions: [
        { label: 'red', score: expect.any(Number) as number },
        { label: 'blue', score: expect.any(Number) as number },
      ],
      latencyMs: expect.any(Number) as number,
    });
    expectAllClassesRanked(data!.predictions!);
    // The server's own measure of the request fits inside the client's.
    expect(data!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(data!.latencyMs).toBeLessThanOrEqual(roundTrip);
    // The same bytes as base64 JSON are prepared, and scored, the same way.
    const json = await predictJson({ image: red.toString('base64') });
    for (const [i, p] of json.data!.predictions!.entries()) {
      expect(p.label).toBe(data!.predictions![i]!.label);
      expect(Math.abs(p.score - data!.predictions![i]!.score)).toBeLessThan(1e-6);
    }
  });

  it('takes base64 JSON, one image or a batch answered in order', async () => {
    const single = await predictJson({
      image: `data:image/jpeg;base64,${blue.toString('base64')}`,
    });
    expect(single.response.status).toBe(200);
    expect(single.data!.results).toBeUndefined();
    expect(single.data!.predictions![0]!.label).toBe('blue');
    expectAllClassesRanked(single.data!.predictions!);
    const batch = await predictJson({ images: [red, blue, red].map((b) => b.toString('base64')) });
    expect(batch.response.status).toBe(200);
    expect(batch.data).toEqual({
      modelId,
      results: [expect.any(Object), expect.any(Object), expect.any(Object)] as object[],
      latencyMs: expect.any(Number) as number,
    });
    const results = batch.data!.results!;
    expect(results.map((r) => r.predictions[0]!.label)).toEqual(['red', 'blue', 'red']);
    for (const r of results) expectAllClassesRanked(r.predictions);
    // The same image in one batch scores the same wherever it sits.
    for (const [i, p] of results[2]!.predictions.entries())
      expect(Math.abs(p.score - results[0]!.predictions[i]!.score)).toBeLessThan(1e-6);
  });

  it('takes several multipart files as a batch', async () => {
    // 20 files: more than the 12 parts an upload may have; a batch may have 32.
    const images = [blue, red, ...Array.from({ length: 18 }, (_, i) => (i % 2 ? red : blue))];
    const { data, response } = await predictFiles(
      images.map((image, i) => jpeg(image, `${i}.jpg`)),
    );
    expect(response.status).toBe(200);
    expect(data!.predictions).toBeUndefined();
    expect(data!.results!.map((r) => r.predictions[0]!.label)).toEqual(
      images.map((image) => (image === red ? 'red' : 'blue')),
    );
    for (const r of data!.results!) expectAllClassesRanked(r.predictions);
  });

  it('applies topK and threshold', async () => {
    const image = red.toString('base64');
    const all = (await predictJson({ image }, { topK: 1000 })).data!.predictions!;
    expectAllClassesRanked(all);
    expect((await predictJson({ image }, { topK: 1 })).data!.predictions).toEqual(all.slice(0, 1));
    for (const threshold of [0.5, 1]) {
      const kept = (await predictJson({ image }, { threshold })).data!.predictions;
      expect(kept).toEqual(all.filter((p) => p.score >= threshold));
    }
    // Two classes summing to 1: the top one is at least 0.5.
    expect(all.filter((p) => p.score >= 0.5).length).toBeGreaterThanOrEqual(1);
    const zero = await predictJson({ image }, { topK: 0 });
    expect(zero.response.status).toBe(400);
    expect(zero.error).toMatchObject({
      ...problem(400, 'invalid_request'),
      errors: [{ path: '/topK', message: 'must be >= 1' }],
    });
  });

  it('refuses bad input with problem+json', async () => {
    const huge = await sharp({
      create: { width: 12_000, height: 9_000, channels: 3, background: 'white' },
    })
      .png()
      .toBuffer();
    const cases = [
      [
        await predictFiles([jpeg(Buffer.from('definitely not an image'), 'x.jpg')]),
        422,
        'invalid_image',
      ],
      [await predictJson({ image: '%%% not base64 %%%' }), 400, 'invalid_base64'],
      [await predictJson({}), 400, 'missing_image'],
      [
        await predictJson({ images: Array.from({ length: 33 }, () => red.toString('base64')) }),
        413,
        'invalid_request',
      ],
      [await predictJson({ image: huge.toString('base64') }), 413, 'image_too_large'],
    ] as const;
    for (const [{ error, response }, status, code] of cases) {
      expect(response.status, code).toBe(status);
      expect(response.headers.get('content-type')).toMatch(PROBLEM_JSON);
      expect(error, code).toEqual(problem(status, code));
    }
    // Bodies the document forbids (so raw inject): the handler's own checks answer, no coercion.
    const raw = async (payload: unknown) =>
      h.app.inject({
        method: 'POST',
        url: `/v1/models/${modelId}/predict`,
        headers: { authorization: `Bearer ${key}` },
        payload: payload as object,
      });
    const b64 = red.toString('base64');
    for (const [payload, status, code] of [
      [{ images: [1] }, 400, 'invalid_request'],
      [{ image: 5 }, 400, 'invalid_request'],
      [{ images: b64 }, 400, 'missing_image'],
      [{ image: [b64] }, 400, 'invalid_request'],
    ] as const) {
      const response = await raw(payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(status);
      expect(response.json(), JSON.stringify(payload)).toEqual(problem(status, code));
    }
    const missing = '00000000-0000-0000-0000-000000000000';
    const unknown = await predictJson({ image: red.toString('base64') }, {}, api, missing);
    expect(unknown.response.status).toBe(404);
    expect(unknown.error).toEqual(problem(404, 'not_found', `model ${missing} does not exist`));
  });

  it('keeps other tenants out: 404 on predict, export and delete', async () => {
    const other = injectClient(h.app, await h.newKey('globex'));
    const notFound = problem(404, 'not_found', `model ${modelId} does not exist`);
    const path = { params: { path: { id: modelId } } };
    const predicted = await predictJson({ image: red.toString('base64') }, {}, other);
    const exported = await other.GET('/v1/models/{id}/export', { ...path, parseAs: 'arrayBuffer' });
    const deleted = await other.DELETE('/v1/models/{id}', path);
    for (const { error, response } of [predicted, exported, deleted]) {
      expect(response.status).toBe(404);
      expect(error).toEqual(notFound);
    }
    expect((await api.GET('/v1/models/{id}', path)).data!.id).toBe(modelId);
  });
});

/** Writes the zip's files into `dir`; their names, sorted. */
async function unzipInto(zip: Buffer, dir: string): Promise<string[]> {
  const files = await unzip(zip);
  for (const [name, data] of files) writeFileSync(join(dir, name), data);
  return [...files.keys()].sort();
}

describe('the inference thread', () => {
  it('evicts the least recently used model when over its byte budget, and reloads on demand', async () => {
    const row = await h.db.model.findUniqueOrThrow({ where: { id: modelId } });
    const ref = (id: string) => ({
      id,
      artifactKey: row.artifactKey,
      preprocessing: row.preprocessing as unknown as Preprocessing,
    });
    const pixels = async () => [await decodeImage(red, ref('x').preprocessing)];
    const probe = new InferenceService(h.config, h.store, { cacheBytes: 1, maxBatch: 8 });
    try {
      const first = await probe.predict(ref('model-a'), await pixels());
      expect((await probe.cachedModels()).map((m) => m.id)).toEqual(['model-a']);
      await probe.predict(ref('model-b'), await pixels());
      const cached = await probe.cachedModels();
      expect(cached.map((m) => m.id)).toEqual(['model-b']);
      expect(cached[0]!.bytes).toBeGreaterThan(100_000);
      const again = await probe.predict(ref('model-a'), await pixels());
      expect(Array.from(again[0]!)).toEqual(Array.from(first[0]!));
      // The files came through the store into this machine's bounded file cache, which is safe
      // to lose: model-b, out of memory again, is read from the store once more.
      const files = join(h.config.dataDir, 'cache', 'models');
      expect(readdirSync(files)).toEqual(expect.arrayContaining(['model-a', 'model-b']));
      rmSync(files, { recursive: true, force: true });
      const fetched = await probe.predict(ref('model-b'), await pixels());
      expect(Array.from(fetched[0]!)).toEqual(Array.from(first[0]!));
      expect(readdirSync(files)).toEqual(['model-b']);
    } finally {
      await probe.close();
    }
  });
});

describe('GET /v1/models/:id/export and DELETE /v1/models/:id', () => {
  it('exports a zip that plain tfjs runs to the same predictions (within 1e-4)', async () => {
    const { data, response } = await api.GET('/v1/models/{id}/export', {
      params: { path: { id: modelId } },
      parseAs: 'arrayBuffer',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/zip');
    const dir = mkdtempSync(join(tmpdir(), 'graft-export-'));
    expect(await unzipInto(Buffer.from(data!), dir)).toEqual([
      'README.md',
      'metadata.json',
      'model.json',
      'weights.bin',
    ]);
    writeFileSync(join(dir, 'red.jpg'), red);
    writeFileSync(join(dir, 'blue.jpg'), blue);
    // What the exported README tells a user to do, with nothing from Graft.
    const script = `
      const fs = require('fs'); const path = require('path'); const tf = require('@tensorflow/tfjs'); const sharp = require('sharp');
      const dir = process.argv[1];
      (async () => {
        await tf.setBackend('cpu');
        const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
        const w = fs.readFileSync(path.join(dir, 'weights.bin'));
        const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: w.buffer.slice(w.byteOffset, w.byteOffset + w.byteLength) }));
        const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8'));
        const p = meta.preprocessing; const out = {};
        for (const name of ['red.jpg', 'blue.jpg']) {
          const px = await sharp(path.join(dir, name)).rotate().removeAlpha().toColourspace('srgb').resize(p.size, p.size, { fit: p.resize }).raw().toBuffer();
          const x = tf.tensor4d(new Uint8Array(px), [1, p.size, p.size, 3], 'int32').toFloat().mul((p.valueRange[1] - p.valueRange[0]) / 255).add(p.valueRange[0]);
          const scores = Array.from(await model.predict(x).data());
          out[name] = meta.labels.map((label, i) => ({ label, score: scores[i] }));
        }
        process.stdout.write(JSON.stringify(out));
      })();`;
    const exported = JSON.parse(
      execFileSync(process.execPath, ['-e', script, dir], { encoding: 'utf8' }),
    ) as Record<string, Prediction[]>;
    for (const [name, image] of [
      ['red.jpg', red],
      ['blue.jpg', blue],
    ] as const) {
      const served = (await predictJson({ image: image.toString('base64') }, { topK: 1000 })).data!
        .predictions!;
      expectAllClassesRanked(served);
      expect(exported[name]!.map((e) => e.label)).toEqual(labels);
      const local = [...exported[name]!].sort((a, b) => b.score - a.score);
      expect(local[0]!.label).toBe(served[0]!.label);
      for (const p of served)
        expect(
          Math.abs(p.score - exported[name]!.find((e) => e.label === p.label)!.score),
        ).toBeLessThan(1e-4);
    }
  });

  it('deletes the model, its files and its cache entry', async () => {
    const row = await h.db.model.findUniqueOrThrow({ where: { id: modelId } });
    const files = join(h.config.dataDir, 'artifacts', row.artifactKey);
    expect(existsSync(files)).toBe(true);
    const path = { params: { path: { id: modelId } } };
    const deleted = await api.DELETE('/v1/models/{id}', path);
    expect(deleted.response.status).toBe(204);
    expect(deleted.data).toBeUndefined();
    expect(existsSync(files)).toBe(false);
    const notFound = problem(404, 'not_found', `model ${modelId} does not exist`);
    expect((await api.GET('/v1/models/{id}', path)).error).toEqual(notFound);
    const predicted = await predictJson({ image: red.toString('base64') });
    expect(predicted.response.status).toBe(404);
    expect(predicted.error).toEqual(notFound);
    const listed = await api.GET('/v1/models', { params: { query: { limit: 100, offset: 0 } } });
    expect(listed.data!.items.map((m) => m.id)).not.toContain(modelId);
  });
});
