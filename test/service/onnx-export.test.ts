import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceService } from '../../src/inference/inference.service.js';
import { ONNX_CONVERTER_VERSION, OnnxConversionError } from '../../src/onnx/layers-to-onnx.js';
import { DomainError } from '../../src/services/domain-error.js';
import type { ArtifactStore } from '../../src/storage/artifact-store.js';
import { decodeImage } from '../../src/storage/image-decoder.js';
import type { Preprocessing } from '../../src/training/base-model-catalog.js';
import { modelToArtifacts, serializeArtifacts } from '../../src/training/model-artifacts.js';
import { injectClient, type GraftClient } from '../client/graft-client.js';
import { photo } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';
import { trainColourModel } from '../helpers/trained-model.js';
import { unzip } from '../helpers/unzip.js';

/*
 * GET /v1/models/:id/export?format=onnx: a zip whose model.onnx a fresh Node process runs with
 * nothing but onnxruntime-node to the scores the API serves and tfjs computes (within 1e-4,
 * same top-1); a model without a stored graph, or with one an older converter wrote, is
 * converted on export and its graph kept. Conversions wait their turn with predictions, count
 * against the same limit, are dropped when their caller gives up first, and a model the
 * converter refused is refused again at once.
 */

const TOLERANCE = 1e-4;

let h: Harness;
let api: GraftClient;
let key: string;
let modelId: string;
let labels: string[];
let pre: Preprocessing;
let images: { name: string; jpeg: Buffer }[];

beforeAll(async () => {
  h = await startHarness({ worker: true });
  key = await h.newKey('acme');
  api = injectClient(h.app, key);
  ({ modelId } = await trainColourModel(api));
  const model = (await api.GET('/v1/models/{id}', { params: { path: { id: modelId } } })).data!;
  labels = model.labels;
  pre = model.preprocessing as Preprocessing;
  images = [
    { name: 'red', jpeg: await photo([215, 35, 45], 61) },
    { name: 'blue', jpeg: await photo([35, 55, 215], 62) },
    { name: 'olive', jpeg: await photo([120, 130, 60], 63) },
  ];
});

afterAll(async () => {
  await h?.close();
});

const PROBLEM_JSON = /^application\/problem\+json/;

async function exportZip(id: string, format?: string, bearer = key) {
  const query = format === undefined ? '' : `?format=${format}`;
  return h.app.inject({
    method: 'GET',
    url: `/v1/models/${id}/export${query}`,
    headers: { authorization: `Bearer ${bearer}` },
  });
}

/**
 * What the exported README tells a user to do, in a fresh Node process that loads nothing but
 * onnxruntime-node: raw RGB pixels (decoded as the server decodes) → the README's value
 * mapping → one batch through model.onnx → scores per image, by label.
 */
const PARITY_SCRIPT = `
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
const ort = createRequire(process.env.GRAFT_REPO_PACKAGE)('onnxruntime-node');
const [dir, ...names] = process.argv.slice(2);
const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8'));
const { size, valueRange: [low, high], channelOrder } = meta.preprocessing;
const session = await ort.InferenceSession.create(join(dir, 'model.onnx'));
const pixels = names.map((name) => readFileSync(join(dir, name + '.rgb')));
const input = new Float32Array(names.length * size * size * 3);
pixels.forEach((image, n) => {
  for (let i = 0; i < image.length; i++) {
    const channel = i % 3;
    const from = channelOrder === 'BGR' ? i - channel + (2 - channel) : i;
    input[n * image.length + i] = image[from] * ((high - low) / 255) + low;
  }
});
const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input, [names.length, size, size, 3]) };
const output = (await session.run(feeds))[session.outputNames[0]];
const classes = output.dims[1];
const scores = Object.fromEntries(names.map((name, n) => [name,
  meta.labels.map((label, i) => ({ label, score: output.data[n * classes + i] }))]));
process.stdout.write(JSON.stringify({ inputNames: session.inputNames, outputNames: session.outputNames, scores }));
`;

type Scores = Record<string, { label: string; score: number }[]>;

function runExported(dir: string): {
  inputNames: string[];
  outputNames: string[];
  scores: Scores;
} {
  const script = join(dir, 'parity.mjs');
  writeFileSync(script, PARITY_SCRIPT);
  const output = execFileSync(process.execPath, [script, dir, ...images.map((i) => i.name)], {
    encoding: 'utf8',
    cwd: dir,
    env: { PATH: process.env.PATH, GRAFT_REPO_PACKAGE: resolve('package.json') },
  });
  return JSON.parse(output) as ReturnType<typeof runExported>;
}

/** The model's scores per image through tfjs alone (GRAFT_ONNX=off), by label. */
async function tfjsScores(pixels: Uint8Array[]): Promise<Scores> {
  const row = await h.db.model.findUniqueOrThrow({ where: { id: modelId } });
  const tfjs = new InferenceService(
    { ...h.config, engines: { ...h.config.engines, onnx: 'off' } },
    h.store,
    { cacheBytes: 512 * 1024 ** 2, maxBatch: 8 },
  );
  try {
    const ref = { id: modelId, artifactKey: row.artifactKey, preprocessing: pre };
    const rows = await tfjs.predict(ref, pixels);
    return Object.fromEntries(
      images.map(({ name }, n) => [
        name,
        labels.map((label, i) => ({ label, score: rows[n]![i]! })),
      ]),
    );
  } finally {
    await tfjs.close();
  }
}

function expectSameScores(actual: Scores, expected: Scores) {
  for (const { name } of images) {
    const got = actual[name]!;
    const want = expected[name]!;
    expect(got.map((s) => s.label)).toEqual(want.map((s) => s.label));
    for (const [i, s] of got.entries())
      expect(Math.abs(s.score - want[i]!.score), `${name} ${s.label}`).toBeLessThan(TOLERANCE);
    const top = (scores: typeof got) => [...scores].sort((a, b) => b.score - a.score)[0]!.label;
    expect(top(got), name).toBe(top(want));
  }
}

describe('GET /v1/models/:id/export?format=onnx', () => {
  it('exports model.onnx that onnxruntime-node alone runs to the served and tfjs scores (within 1e-4)', async () => {
    const row = await h.db.model.findUniqueOrThrow({ where: { id: modelId } });
    const stored = `${row.artifactKey}/model.onnx`;
    // As a model trained before training wrote model.onnx: converted now, then kept.
    await h.store.remove(stored);
    const response = await exportZip(modelId, 'onnx');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/zip');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="graft-model-${modelId}-onnx.zip"`,
    );
    const files = await unzip(response.rawPayload);
    expect([...files.keys()].sort()).toEqual(['README.md', 'metadata.json', 'model.onnx']);
    expect(await h.store.exists(stored)).toBe(true);
    expect(Buffer.compare(await h.store.get(stored), files.get('model.onnx')!)).toBe(0);
    // The next export serves the kept graph.
    const again = await unzip((await exportZip(modelId, 'onnx')).rawPayload);
    expect(Buffer.compare(again.get('model.onnx')!, files.get('model.onnx')!)).toBe(0);

    const dir = mkdtempSync(join(tmpdir(), 'graft-onnx-export-'));
    for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
    const pixels = await Promise.all(images.map(({ jpeg }) => decodeImage(jpeg, pre)));
    images.forEach(({ name }, n) => writeFileSync(join(dir, `${name}.rgb`), pixels[n]!));
    const exported = runExported(dir);

    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    expect(readme).toContain(`Input \`${exported.inputNames[0]}\``);
    expect(readme).toContain(`Output \`${exported.outputNames[0]}\``);
    expect(readme).toContain(`[n, ${pre.size}, ${pre.size}, 3]`);
    expect(readme).toContain("require('onnxruntime-node')");
    expect(readme).toContain('import onnxruntime as ort');
    expect(JSON.parse(files.get('metadata.json')!.toString('utf8'))).toMatchObject({ labels });

    const served: Scores = {};
    for (const { name, jpeg } of images) {
      const { data } = await api.POST('/v1/models/{id}/predict', {
        params: { path: { id: modelId }, query: { topK: 1000 } },
        body: { image: jpeg.toString('base64') },
      });
      served[name] = labels.map((label) => data!.predictions!.find((p) => p.label === label)!);
    }
    expectSameScores(exported.scores, served);
    expectSameScores(exported.scores, await tfjsScores(pixels));

    // The README's own onnxruntime-node snippet, as written (it decodes with sharp).
    const snippet = /```js\n([\s\S]*?)```/.exec(readme)![1]!;
    writeFileSync(join(dir, 'snippet.cjs'), snippet);
    writeFileSync(join(dir, 'red.jpg'), images[0]!.jpeg);
    const printed = execFileSync(process.execPath, ['snippet.cjs', 'red.jpg'], {
      encoding: 'utf8',
      cwd: dir,
      env: { PATH: process.env.PATH, NODE_PATH: resolve('node_modules') },
    });
    const ranked = [...printed.matchAll(/label: '([^']+)',\s*score: ([\d.e-]+)/g)];
    expect(ranked.map((m) => m[1])).toEqual(
      [...served.red!].sort((a, b) => b.score - a.score).map((p) => p.label),
    );
    for (const [, label, score] of ranked)
      expect(
        Math.abs(Number(score) - served.red!.find((p) => p.label === label)!.score),
      ).toBeLessThan(TOLERANCE);
  });

  it('keeps tfjs the default, refuses an unknown format, and keeps other tenants out', async () => {
    const plain = await exportZip(modelId);
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['content-disposition']).toBe(
      `attachment; filename="graft-model-${modelId}.zip"`,
    );
    const files = await unzip(plain.rawPayload);
    expect([...files.keys()].sort()).toEqual([
      'README.md',
      'metadata.json',
      'model.json',
      'weights.bin',
    ]);
    expect(files.get('README.md')!.toString()).toContain('@tensorflow/tfjs');
    const tfjs = await unzip((await exportZip(modelId, 'tfjs')).rawPayload);
    expect([...tfjs.keys()].sort()).toEqual([...files.keys()].sort());

    const bogus = await exportZip(modelId, 'bogus');
    expect(bogus.statusCode).toBe(400);
    expect(bogus.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(bogus.json()).toMatchObject({
      status: 400,
      code: 'invalid_request',
      errors: [{ path: '/format' }],
    });

    const other = await h.newKey('globex');
    for (const format of ['onnx', undefined]) {
      const response = await exportZip(modelId, format, other);
      expect(response.statusCode).toBe(404);
      expect(response.json()).toMatchObject({
        code: 'not_found',
        detail: `model ${modelId} does not exist`,
      });
    }
  });

  it('answers 422 with the converter’s reason for a model it cannot convert', async () => {
    // A stored model with a layer the converter refuses (a recurrent one).
    await storeRecurrentModel('models/recurrent');
    const row = await h.db.model.findUniqueOrThrow({ where: { id: modelId } });
    const rnn = await h.db.model.create({
      data: {
        tenantId: row.tenantId,
        baseModel: row.baseModel,
        labels: row.labels as string[],
        inputSize: 8,
        preprocessing: { ...pre, size: 8 },
        metrics: row.metrics as object,
        kept: row.kept,
        keptReason: row.keptReason,
        artifactKey: 'models/recurrent',
      },
    });

    const response = await exportZip(rnn.id, 'onnx');
    expect(response.statusCode).toBe(422);
    expect(response.headers['content-type']).toMatch(PROBLEM_JSON);
    expect(response.json()).toMatchObject({
      status: 422,
      code: 'not_convertible',
      detail: expect.stringMatching(/^model .* cannot be exported as ONNX: .*SimpleRNN/) as string,
    });
    expect(await h.store.exists('models/recurrent/model.onnx')).toBe(false);
    // Asked again: the same answer (now without converting, see below).
    expect((await exportZip(rnn.id, 'onnx')).json()).toEqual(response.json());
    // Its tfjs export still works.
    expect((await exportZip(rnn.id)).statusCode).toBe(200);
  });

  it('converts again a stored model.onnx an older converter wrote, and stores the new one over it', async () => {
    const row = await h.db.model.findUniqueOrThrow({ where: { id: modelId } });
    const stored = `${row.artifactKey}/model.onnx`;
    const current = await h.store.get(stored);
    expect(onnxProto.onnx.ModelProto.decode(current).producerVersion).toBe(ONNX_CONVERTER_VERSION);
    const old = onnxProto.onnx.ModelProto.decode(current);
    old.producerVersion = 'graft-onnx/0';
    old.graph!.name = 'written by a converter since fixed';
    const oldBytes = Buffer.from(onnxProto.onnx.ModelProto.encode(old).finish());
    await h.store.put(stored, oldBytes);

    const response = await exportZip(modelId, 'onnx');
    expect(response.statusCode).toBe(200);
    const exported = (await unzip(response.rawPayload)).get('model.onnx')!;
    expect(onnxProto.onnx.ModelProto.decode(exported)).toMatchObject({
      producerVersion: ONNX_CONVERTER_VERSION,
      graph: { name: onnxProto.onnx.ModelProto.decode(current).graph!.name },
    });
    expect(Buffer.compare(exported, oldBytes)).not.toBe(0);
    expect(Buffer.compare(await h.store.get(stored), exported)).toBe(0);
  });
});

/** A tfjs model with a layer the converter refuses (a recurrent one), stored under `key`. */
async function storeRecurrentModel(key: string): Promise<void> {
  const model = tf.sequential({
    layers: [
      tf.layers.reshape({ inputShape: [8, 8, 3], targetShape: [8, 24] }),
      tf.layers.simpleRNN({ units: 4 }),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  const { modelJson, weights } = serializeArtifacts(await modelToArtifacts(model));
  model.dispose();
  await h.store.put(`${key}/model.json`, modelJson);
  await h.store.put(`${key}/weights.bin`, weights);
  await h.store.put(`${key}/metadata.json`, '{"labels":["blue","red"]}');
}

describe('conversions on the inference thread', () => {
  /** A runner of its own (an empty local file cache), over the store, counting what it reads. */
  function countingRunner(options: { maxPending: number; maxBatch: number }) {
    const reads: string[] = [];
    const store = new Proxy(h.store, {
      get(target, name: keyof ArtifactStore) {
        if (name === 'get')
          return (key: string) => {
            reads.push(key);
            return target.get(key);
          };
        const value: unknown = Reflect.get(target, name);
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'graft-convert-'));
    const runner = new InferenceService({ ...h.config, dataDir }, store, {
      cacheBytes: 512 * 1024 ** 2,
      ...options,
    });
    const close = async () => {
      await runner.close();
      rmSync(dataDir, { recursive: true, force: true });
    };
    return { runner, reads, dataDir, close };
  }

  async function modelRef() {
    const row = await h.db.model.findUniqueOrThrow({ where: { id: modelId } });
    return { id: modelId, artifactKey: row.artifactKey, preprocessing: pre };
  }

  it('refuses a model the converter refused before at once, without reading it again', async () => {
    await storeRecurrentModel('models/recurrent-again');
    const rnn = {
      id: 'recurrent-again',
      artifactKey: 'models/recurrent-again',
      preprocessing: pre,
    };
    const { runner, reads, dataDir, close } = countingRunner({ maxPending: 64, maxBatch: 8 });
    try {
      const first = await runner.convertToOnnx(rnn).catch((error: unknown) => error);
      expect(first).toBeInstanceOf(OnnxConversionError);
      expect((first as Error).message).toMatch(/SimpleRNN/);
      expect(reads).toContain('models/recurrent-again/model.json');
      // Without its local copy, converting again would read the store.
      rmSync(join(dataDir, 'cache'), { recursive: true, force: true });
      reads.length = 0;
      const again = await runner.convertToOnnx(rnn).catch((error: unknown) => error);
      expect(again).toBeInstanceOf(OnnxConversionError);
      expect((again as Error).message).toBe((first as Error).message);
      expect(reads).toEqual([]);
    } finally {
      await close();
    }
  });

  it('counts a conversion against the pending limit, and drops one whose caller gave up before its turn', async () => {
    const ref = await modelRef();
    const other = { ...ref, id: 'convert-me', artifactKey: 'models/convert-me' };
    for (const name of ['model.json', 'weights.bin'])
      await h.store.put(
        `${other.artifactKey}/${name}`,
        await h.store.get(`${ref.artifactKey}/${name}`),
      );
    const pixels = await Promise.all(images.map(({ jpeg }) => decodeImage(jpeg, pre)));
    const { runner, reads, close } = countingRunner({ maxPending: 10, maxBatch: 8 });
    try {
      await runner.cachedModels(); // started
      // Three images pending: a conversion (a batch's worth, 8) would go over 10.
      const predicting = runner.predict(
        ref,
        pixels.map((p) => p.slice()),
      );
      const busy = await runner.convertToOnnx(other).catch((error: unknown) => error);
      expect(busy).toBeInstanceOf(DomainError);
      expect(busy).toMatchObject({ status: 503, code: 'busy' });
      await predicting;

      // Queued behind a prediction whose model is not loaded yet, then given up.
      const first = runner.predict(
        { ...ref, id: 'fresh-load' },
        pixels.slice(0, 1).map((p) => p.slice()),
      );
      const stop = new AbortController();
      const gaveUp = new Error('the client went away');
      const dropped = runner.convertToOnnx(other, stop.signal).catch((error: unknown) => error);
      await new Promise((resolve) => setImmediate(resolve));
      stop.abort(gaveUp);
      expect(await dropped).toBe(gaveUp);
      await first;
      await runner.cachedModels();
      expect(reads.filter((key) => key.startsWith(other.artifactKey))).toEqual([]);

      // Alone, it gets in and runs.
      const bytes = await runner.convertToOnnx(other);
      expect(onnxProto.onnx.ModelProto.decode(bytes).producerVersion).toBe(ONNX_CONVERTER_VERSION);
      expect(reads).toContain(`${other.artifactKey}/model.json`);
    } finally {
      await close();
    }
  });
});
