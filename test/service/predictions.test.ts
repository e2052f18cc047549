import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { InferenceService } from '../../src/inference/inference.service.js';
import { decodeImage } from '../../src/storage/image-decoder.js';
import type { Preprocessing } from '../../src/training/base-model-catalog.js';
import { colourDataset, multipart, photo } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';

let h: Harness;
let key: string;
let modelId: string;
let red: Buffer;
let blue: Buffer;

interface Prediction {
  label: string;
  score: number;
}

beforeAll(async () => {
  h = await startHarness({ worker: true });
  key = await h.newKey('acme');
  const body = multipart('colours.zip', await colourDataset(6));
  const dataset = await h.app.inject({
    method: 'POST',
    url: '/v1/datasets',
    payload: body.payload,
    headers: { ...body.headers, ...auth() },
  });
  const job = await h.app.inject({
    method: 'POST',
    url: '/v1/jobs',
    payload: {
      datasetId: dataset.json<{ id: string }>().id,
      fineTuning: { enabled: false },
      // Blue vs red is separable by raw pixels; these tests need the base in the model.
      baseline: { allowShip: false },
    },
    headers: auth(),
  });
  const jobId = job.json<{ id: string }>().id;
  for (let i = 0; i < 480; i++) {
    const state = (await h.app.inject({ url: `/v1/jobs/${jobId}`, headers: auth() })).json<{
      status: string;
      modelId: string | null;
    }>();
    if (state.status === 'succeeded') {
      modelId = state.modelId!;
      break;
    }
    if (state.status !== 'queued' && state.status !== 'running')
      throw new Error(`training ${state.status}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  red = await photo([215, 35, 45], 77);
  blue = await photo([35, 55, 215], 78);
});

afterAll(async () => {
  await h?.close();
});

function auth(k?: string) {
  return { authorization: `Bearer ${k ?? key}` };
}

const predictJson = (payload: object, query = '', k?: string) =>
  h.app.inject({
    method: 'POST',
    url: `/v1/models/${modelId}/predict${query}`,
    payload,
    headers: auth(k),
  });

describe('POST /v1/models/:id/predict', () => {
  it('classifies one multipart image: scores descending, all classes summing to 1', async () => {
    const body = multipart('red.jpg', red);
    const response = await h.app.inject({
      method: 'POST',
      url: `/v1/models/${modelId}/predict`,
      payload: body.payload,
      headers: { ...body.headers, ...auth() },
    });
    expect(response.statusCode).toBe(200);
    const result = response.json<{
      modelId: string;
      predictions: Prediction[];
      latencyMs: number;
    }>();
    expect(result.modelId).toBe(modelId);
    expect(result.predictions.map((p) => p.label)).toEqual(['red', 'blue']);
    expect(result.predictions[0]!.score).toBeGreaterThanOrEqual(result.predictions[1]!.score);
    expect(result.predictions.reduce((sum, p) => sum + p.score, 0)).toBeCloseTo(1, 5);
    expect(result.latencyMs).toBeGreaterThan(0);
  });

  it('takes base64 JSON, one image or a batch answered in order', async () => {
    const single = await predictJson({
      image: `data:image/jpeg;base64,${blue.toString('base64')}`,
    });
    expect(single.json<{ predictions: Prediction[] }>().predictions[0]!.label).toBe('blue');
    const batch = await predictJson({ images: [red, blue, red].map((b) => b.toString('base64')) });
    const results = batch.json<{ results: { predictions: Prediction[] }[] }>().results;
    expect(results.map((r) => r.predictions[0]!.label)).toEqual(['red', 'blue', 'red']);
  });

  it('takes several multipart files as a batch', async () => {
    const boundary = '----graftbatch';
    const part = (name: string, data: Buffer) => [
      Buffer.from(
        `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${name}"\r\ncontent-type: image/jpeg\r\n\r\n`,
      ),
      data,
      Buffer.from('\r\n'),
    ];
    // 20 files: more than the 12 parts an upload may have; a batch may have 32.
    const images = [blue, red, ...Array.from({ length: 18 }, (_, i) => (i % 2 ? red : blue))];
    const payload = Buffer.concat([
      ...images.flatMap((image, i) => part(`${i}.jpg`, image)),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
    const response = await h.app.inject({
      method: 'POST',
      url: `/v1/models/${modelId}/predict`,
      payload,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, ...auth() },
    });
    expect(response.statusCode).toBe(200);
    const labels = response
      .json<{ results: { predictions: Prediction[] }[] }>()
      .results.map((r) => r.predictions[0]!.label);
    expect(labels).toEqual(images.map((image) => (image === red ? 'red' : 'blue')));
  });

  it('applies topK and threshold', async () => {
    const top1 = await predictJson({ image: red.toString('base64') }, '?topK=1');
    expect(top1.json<{ predictions: Prediction[] }>().predictions).toHaveLength(1);
    const strict = await predictJson({ image: red.toString('base64') }, '?threshold=1');
    const all = (await predictJson({ image: red.toString('base64') })).json<{
      predictions: Prediction[];
    }>().predictions;
    expect(strict.json<{ predictions: Prediction[] }>().predictions).toEqual(
      all.filter((p) => p.score >= 1),
    );
    expect((await predictJson({ image: red.toString('base64') }, '?topK=0')).statusCode).toBe(400);
  });

  it('refuses bad input with problem+json', async () => {
    const notImage = multipart('x.jpg', Buffer.from('definitely not an image'));
    const cases = [
      [
        await h.app.inject({
          method: 'POST',
          url: `/v1/models/${modelId}/predict`,
          payload: notImage.payload,
          headers: { ...notImage.headers, ...auth() },
        }),
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
      [
        await predictJson({
          image: (
            await sharp({
              create: { width: 12_000, height: 9_000, channels: 3, background: 'white' },
            })
              .png()
              .toBuffer()
          ).toString('base64'),
        }),
        413,
        'image_too_large',
      ],
    ] as const;
    for (const [response, status, code] of cases) {
      expect(response.statusCode, code).toBe(status);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.json()).toMatchObject({ code });
    }
    const unknown = await h.app.inject({
      method: 'POST',
      url: '/v1/models/00000000-0000-0000-0000-000000000000/predict',
      payload: { image: red.toString('base64') },
      headers: auth(),
    });
    expect(unknown.statusCode).toBe(404);
  });

  it('keeps other tenants out: 404 on predict, export and delete', async () => {
    const other = await h.newKey('globex');
    expect((await predictJson({ image: red.toString('base64') }, '', other)).statusCode).toBe(404);
    expect(
      (await h.app.inject({ url: `/v1/models/${modelId}/export`, headers: auth(other) }))
        .statusCode,
    ).toBe(404);
    expect(
      (await h.app.inject({ method: 'DELETE', url: `/v1/models/${modelId}`, headers: auth(other) }))
        .statusCode,
    ).toBe(404);
  });
});

async function unzip(zip: Buffer, dir: string): Promise<string[]> {
  const zipfile = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(zip, { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z))),
  );
  const names: string[] = [];
  await new Promise<void>((resolve, reject) => {
    zipfile.on('entry', (entry: yauzl.Entry) => {
      zipfile.openReadStream(entry, (error, stream) => {
        if (error) return reject(error);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          writeFileSync(join(dir, entry.fileName), Buffer.concat(chunks));
          names.push(entry.fileName);
          zipfile.readEntry();
        });
      });
    });
    zipfile.on('end', resolve);
    zipfile.readEntry();
  });
  return names.sort();
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
    const probe = new InferenceService(h.config, { cacheBytes: 1, maxBatch: 8 });
    try {
      const first = await probe.predict(ref('model-a'), await pixels());
      expect((await probe.cachedModels()).map((m) => m.id)).toEqual(['model-a']);
      await probe.predict(ref('model-b'), await pixels());
      const cached = await probe.cachedModels();
      expect(cached.map((m) => m.id)).toEqual(['model-b']);
      expect(cached[0]!.bytes).toBeGreaterThan(100_000);
      const again = await probe.predict(ref('model-a'), await pixels());
      expect(Array.from(again[0]!)).toEqual(Array.from(first[0]!));
    } finally {
      await probe.close();
    }
  });
});

describe('GET /v1/models/:id/export and DELETE /v1/models/:id', () => {
  it('exports a zip that plain tfjs runs to the same predictions (within 1e-4)', async () => {
    const response = await h.app.inject({ url: `/v1/models/${modelId}/export`, headers: auth() });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/zip');
    const dir = mkdtempSync(join(tmpdir(), 'graft-export-'));
    expect(await unzip(response.rawPayload, dir)).toEqual([
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
      const served = (await predictJson({ image: image.toString('base64') }, '?topK=1000')).json<{
        predictions: Prediction[];
      }>().predictions;
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
    expect(
      (await h.app.inject({ method: 'DELETE', url: `/v1/models/${modelId}`, headers: auth() }))
        .statusCode,
    ).toBe(204);
    expect(existsSync(files)).toBe(false);
    expect((await h.app.inject({ url: `/v1/models/${modelId}`, headers: auth() })).statusCode).toBe(
      404,
    );
    expect((await predictJson({ image: red.toString('base64') })).statusCode).toBe(404);
  });
});
