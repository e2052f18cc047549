import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaseModelError, loadBaseModel, loadBundled } from '../../src/storage/base-model-store.js';
import { modelToArtifacts, serializeArtifacts } from '../../src/training/model-artifacts.js';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';
import {
  BASE_MODEL_CATALOG,
  DEFAULT_BASE_ID,
  findBaseModel,
} from '../../src/training/base-model-catalog.js';
import { disposeModelWeights, planCut } from '../../src/training/model-surgery.js';
import { createTinyBase } from '../helpers/tiny-base.js';

// Real ImageNet bases for tests live beside the checkout in dev and CI; a user's clone has none.
const SHARED_MODELS = resolve('../shared/models');
const hasSharedModels = existsSync(
  join(SHARED_MODELS, 'mobilenet_v2_0.35_224_imagenet', 'model.json'),
);

let server: Server;
let baseUrl: string;
const requests: string[] = [];
let files: Record<string, Uint8Array | string> = {};

async function tinyModelFiles(): Promise<Record<string, Uint8Array | string>> {
  const model = createTinyBase();
  const saved = await modelToArtifacts(model);
  disposeModelWeights(model);
  const { modelJson, weights } = serializeArtifacts(saved);
  return { 'model.json': modelJson, 'weights.bin': weights };
}

beforeAll(async () => {
  await selectBackend('wasm');
  files = await tinyModelFiles();
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const name = (req.url ?? '').split('/').pop()!;
    const body = files[name];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server.close();
});

const cacheDir = () => mkdtempSync(join(tmpdir(), 'graft-cache-'));

describe('loadBaseModel', () => {
  it('downloads a model.json URL once, verifies the cache, and reuses it', async () => {
    const dir = cacheDir();
    const url = `${baseUrl}/tiny/model.json`;
    requests.length = 0;
    const first = await loadBaseModel(url, { cacheDir: dir });
    expect(requests).toEqual(['/tiny/model.json', '/tiny/weights.bin']);
    expect(first.entry.architecture).toBe('custom');
    const second = await loadBaseModel(url, { cacheDir: dir });
    expect(requests).toHaveLength(2);
    expect(second.loadedFrom).toBe(first.loadedFrom);
    const manifest = JSON.parse(
      (await import('node:fs')).readFileSync(join(first.loadedFrom, 'graft-cache.json'), 'utf8'),
    ) as { files: Record<string, { bytes: number; sha256: string }> };
    expect(manifest.files['weights.bin']!.bytes).toBe(
      (files['weights.bin'] as Uint8Array).byteLength,
    );
    expect(manifest.files['weights.bin']!.sha256).toMatch(/^[0-9a-f]{64}$/);

    // A damaged cache is detected by its sha256 and fetched again.
    writeFileSync(join(first.loadedFrom, 'weights.bin'), 'garbage');
    await loadBaseModel(url, { cacheDir: dir });
    expect(requests).toHaveLength(4);
    const model = await tf.loadLayersModel(
      tf.io.fromMemory((await loadBaseModel(url, { cacheDir: dir })).artifacts),
    );
    expect(model.outputs[0]!.shape).toEqual([null, 6, 6, 32]);
    disposeModelWeights(model);
    expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it('offline: names the URL, the mirror folder to provide and the offline default', async () => {
    const offline = () => Promise.reject(new TypeError('fetch failed'));
    const attempt = loadBaseModel('mobilenet_v1_0.25', {
      cacheDir: cacheDir(),
      fetchImpl: offline,
    });
    await expect(attempt).rejects.toThrow(BaseModelError);
    await expect(attempt).rejects.toThrow(
      /mobilenet_v1_0\.25_224\/model\.json: fetch failed.*GRAFT_MODEL_MIRROR.*mobilenet_v1_0\.25_224_imagenet\/model\.json.*mobilenet_v2_0\.35/,
    );
  });

  it('rejects unknown references, listing the catalog', async () => {
    await expect(loadBaseModel('resnet_9000', { cacheDir: cacheDir() })).rejects.toThrow(
      /Unknown base model 'resnet_9000'.*mobilenet_v2_0\.35/,
    );
  });

  it('loads a local folder, with preprocessing from its graft-base.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graft-local-'));
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
    writeFileSync(
      join(dir, 'graft-base.json'),
      JSON.stringify({ preprocessing: { size: 24, valueRange: [0, 1] } }),
    );
    const { entry, artifacts } = await loadBaseModel(`file://${dir}`, { cacheDir: cacheDir() });
    expect(entry.preprocessing).toEqual({
      size: 24,
      resize: 'cover',
      valueRange: [0, 1],
      channelOrder: 'RGB',
    });
    expect(artifacts.weightSpecs?.length).toBeGreaterThan(0);
  });

  it('loads the bundled ImageNet default offline, checking its pinned sha256', async () => {
    const { entry, artifacts, loadedFrom } = await loadBaseModel(DEFAULT_BASE_ID, {
      cacheDir: cacheDir(),
      fetchImpl: () => Promise.reject(new Error('must not download')),
    });
    expect(entry).toMatchObject({ id: 'mobilenet_v2_0.35', default: true });
    expect(loadedFrom).toMatch(/models\/mobilenet_v2_0\.35_224_imagenet$/);
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(model.getLayer(entry.featureLayer).outputShape).toEqual([null, 7, 7, 1280]);
    disposeModelWeights(model);
    // A damaged copy is refused, not trained on.
    const damaged = mkdtempSync(join(tmpdir(), 'graft-damaged-'));
    for (const name of ['model.json', 'weights.bin'])
      writeFileSync(join(damaged, name), readFileSync(join(loadedFrom, name)));
    const weights = readFileSync(join(damaged, 'weights.bin'));
    weights[1000] = weights[1000]! ^ 0xff;
    writeFileSync(join(damaged, 'weights.bin'), weights);
    const source = entry.source as Extract<typeof entry.source, { kind: 'bundled' }>;
    await expect(loadBundled(damaged, source.pinned)).rejects.toThrow(
      /weights\.bin is damaged.*git checkout/,
    );
  });

  it('loads nsfwjs MobileNetV2 from its npm package and can cut and unfreeze it', async () => {
    const { entry, artifacts } = await loadBaseModel('nsfwjs_mobilenet_v2', {
      cacheDir: cacheDir(),
    });
    expect(entry.default).toBeUndefined();
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(model.getLayer(entry.featureLayer).outputShape).toEqual([null, 14, 14, 576]);
    const cut = planCut(model, entry.featureLayer, { fallback: entry.defaultUnfreezeFrom });
    expect(cut.unfreezeFrom).toBe('block_13_expand');
    disposeModelWeights(model);
  });

  it.skipIf(!hasSharedModels)(
    'resolves catalog ids through GRAFT_MODEL_MIRROR (../shared/models)',
    async () => {
      const { entry, loadedFrom, artifacts } = await loadBaseModel('mobilenet_v2_0.35', {
        cacheDir: cacheDir(),
        mirrorDir: SHARED_MODELS,
        fetchImpl: () => Promise.reject(new Error('must not download')),
      });
      expect(loadedFrom).toBe(join(SHARED_MODELS, 'mobilenet_v2_0.35_224_imagenet'));
      const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
      for (const name of [entry.featureLayer, entry.defaultUnfreezeFrom, ...entry.unfreezePoints]) {
        expect(() => model.getLayer(name)).not.toThrow();
      }
      expect(
        planCut(model, entry.featureLayer, { fallback: entry.defaultUnfreezeFrom }).topLayers,
      ).toEqual(['Conv_1', 'Conv_1_bn', 'out_relu']);
      disposeModelWeights(model);
    },
  );

  it('catalog: unique ids, one default, real ImageNet entries with public URLs', () => {
    const ids = BASE_MODEL_CATALOG.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(BASE_MODEL_CATALOG.filter((e) => e.default).map((e) => e.id)).toEqual([DEFAULT_BASE_ID]);
    const imagenet = BASE_MODEL_CATALOG.filter(
      (e) => e.source.kind === 'url' && e.trainedOn.startsWith('ImageNet'),
    );
    expect(imagenet.length).toBeGreaterThanOrEqual(3);
    expect(findBaseModel('mobilenet_v2_0.35')?.source).toMatchObject({
      kind: 'bundled',
      folder: 'mobilenet_v2_0.35_224_imagenet',
      url: 'https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top/model.json',
    });
  });
});
