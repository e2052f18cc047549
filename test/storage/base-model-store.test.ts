import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BaseModelError,
  loadBaseModel,
  loadBundled,
  type BaseModelStoreOptions,
} from '../../src/storage/base-model-store.js';
import { modelToArtifacts, serializeArtifacts } from '../../src/training/model-artifacts.js';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';
import {
  BASE_MODEL_CATALOG,
  DEFAULT_BASE_ID,
  findBaseModel,
} from '../../src/training/base-model-catalog.js';
import { disposeModelWeights, planCut } from '../../src/training/model-surgery.js';
import type { Resolver } from '../../src/storage/url-fence.js';
import {
  closedPort,
  fakeModelFiles,
  serveFiles,
  startHttpsServer,
  testCertificate,
  type TestHttpsServer,
} from '../helpers/https-model-server.js';
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

/** A resolver for tests that must never reach a network. */
const offline: Resolver = (hostname) =>
  Promise.reject(
    Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }),
  );
const mustNotDownload: Resolver = () => Promise.reject(new Error('must not download'));

describe('loadBaseModel', () => {
  it('downloads a model.json URL once, verifies the cache, and reuses it', async () => {
    const dir = cacheDir();
    const url = `${baseUrl}/tiny/model.json`;
    requests.length = 0;
    // The CLI's operator may name any URL, plain http on loopback included.
    const cli = { cacheDir: dir, trust: 'operator' } as const;
    const first = await loadBaseModel(url, cli);
    expect(requests).toEqual(['/tiny/model.json', '/tiny/weights.bin']);
    expect(first.entry.architecture).toBe('custom');
    const second = await loadBaseModel(url, cli);
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
    await loadBaseModel(url, cli);
    expect(requests).toHaveLength(4);
    const model = await tf.loadLayersModel(
      tf.io.fromMemory((await loadBaseModel(url, cli)).artifacts),
    );
    expect(model.outputs[0]!.shape).toEqual([null, 6, 6, 32]);
    disposeModelWeights(model);
    expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it('offline: names the URL, the mirror folder to provide and the offline default', async () => {
    const attempt = loadBaseModel('mobilenet_v1_0.25', {
      cacheDir: cacheDir(),
      fence: { resolve: offline },
    });
    await expect(attempt).rejects.toThrow(BaseModelError);
    await expect(attempt).rejects.toThrow(
      /^the base model 'mobilenet_v1_0\.25' at https:\/\/storage\.googleapis\.com\/\S+mobilenet_v1_0\.25_224\/model\.json could not be downloaded: it is unreachable or not found\. If this machine is offline: .*GRAFT_MODEL_MIRROR.*mobilenet_v1_0\.25_224_imagenet\/model\.json.*mobilenet_v2_0\.35/,
    );
    // What the network said is kept for the server's log.
    await expect(attempt).rejects.toMatchObject({
      detail: expect.stringMatching(/ENOTFOUND/) as string,
    });
  });

  it('rejects unknown references, listing the catalog', async () => {
    await expect(loadBaseModel('resnet_9000', { cacheDir: cacheDir() })).rejects.toThrow(
      /Unknown base model 'resnet_9000'.*mobilenet_v2_0\.35/,
    );
  });

  it('loads a local folder for the CLI, with preprocessing from its graft-base.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'graft-local-'));
    for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), body);
    writeFileSync(
      join(dir, 'graft-base.json'),
      JSON.stringify({ preprocessing: { size: 24, valueRange: [0, 1] } }),
    );
    // A job (the default trust) may not name the server's folders.
    for (const reference of [`file://${dir}`, dir]) {
      await expect(loadBaseModel(reference, { cacheDir: cacheDir() })).rejects.toThrow(
        /Unknown base model|only https/,
      );
    }
    const { entry, artifacts } = await loadBaseModel(`file://${dir}`, {
      cacheDir: cacheDir(),
      trust: 'operator',
    });
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
      fence: { resolve: mustNotDownload },
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
        fence: { resolve: mustNotDownload },
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

describe('loadBaseModel: a tenant URL, within the fence', () => {
  let site: TestHttpsServer;
  let other: TestHttpsServer;
  let ca: string;
  let served: Record<string, Record<string, Uint8Array | string>> = {};
  let redirects: Record<string, string> = {};
  const allowed = (extra: Partial<BaseModelStoreOptions> = {}): BaseModelStoreOptions => ({
    cacheDir: cacheDir(),
    allowHosts: ['localhost', '127.0.0.1'],
    fence: { allowLoopbackFor: ['localhost'], ca },
    ...extra,
  });
  const refusal = async (url: string, options = allowed()) => {
    const error = (await loadBaseModel(url, options).then(
      () => undefined,
      (e: unknown) => e,
    )) as BaseModelError | undefined;
    expect(error).toBeInstanceOf(BaseModelError);
    return error!;
  };

  beforeAll(async () => {
    ca = (await testCertificate()).cert;
    served = {
      tiny: files,
      described: {
        ...files,
        'graft-base.json': JSON.stringify({ preprocessing: { size: 24, valueRange: [0, 1] } }),
      },
      planted: fakeModelFiles({ 'graft-base.json': 10 }),
      many: fakeModelFiles(Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`w${i}.bin`, 10]))),
      notjson: { 'model.json': 'not json' },
      notlayers: { 'model.json': JSON.stringify({ hello: 'world' }) },
    };
    site = await startHttpsServer((req, res) => {
      const url = new URL(req.url ?? '/', 'https://localhost');
      const hop = /^\/hop\/(\d+)(\/.*)$/.exec(url.pathname);
      if (hop && hop[1] !== '0') {
        res.writeHead(302, { location: `/hop/${Number(hop[1]) - 1}${hop[2]}` }).end();
      } else if (url.pathname.startsWith('/away/')) {
        res.writeHead(302, { location: redirects[url.pathname.split('/')[2]!]! }).end();
      } else if (url.pathname.startsWith('/slow/')) {
        // Never answers: only the download's timeout ends it.
      } else if (url.pathname.startsWith('/status/')) {
        res.writeHead(Number(url.pathname.split('/')[2])).end();
      } else if (url.pathname.startsWith('/chunked/')) {
        res.writeHead(200);
        for (let i = 0; i < 8; i++) res.write(new Uint8Array(1024));
        res.end();
      } else {
        const [folder, name] = (hop ? hop[2]! : url.pathname).split('/').slice(-2);
        serveFiles(() => served[folder!] ?? {})(Object.assign(req, { url: `/${name}` }), res);
      }
    });
    other = await startHttpsServer(serveFiles(() => files));
    redirects = {
      loopback: `https://127.0.0.1:${other.port}/model.json`,
      http: `http://localhost:${other.port}/model.json`,
      elsewhere: 'https://elsewhere.example/model.json',
    };
  });

  afterAll(async () => {
    await site?.close();
    await other?.close();
  });

  it('downloads an allowed https URL, with default preprocessing whatever a graft-base.json says', async () => {
    const options = allowed();
    const { entry, artifacts, loadedFrom } = await loadBaseModel(
      `${site.origin}/described/model.json`,
      options,
    );
    expect(artifacts.weightSpecs?.length).toBeGreaterThan(0);
    const defaults = { size: 224, resize: 'cover', valueRange: [-1, 1], channelOrder: 'RGB' };
    expect(entry.preprocessing).toEqual(defaults);
    expect(site.requests.filter((path) => path.includes('graft-base.json'))).toEqual([]);
    // Nor does one that turns up in its cache folder count.
    writeFileSync(
      join(loadedFrom, 'graft-base.json'),
      JSON.stringify({ preprocessing: { size: 24 } }),
    );
    const again = await loadBaseModel(`${site.origin}/described/model.json`, options);
    expect(again.entry.preprocessing).toEqual(defaults);
    // And a model.json may not smuggle one in as a weight file.
    const planted = await refusal(`${site.origin}/planted/model.json`);
    expect(planted.message).toMatch(/names a weight file outside its folder$/);
  });

  it('refuses loopback forms, a name resolving to loopback and private names, before connecting', async () => {
    const before = site.connections();
    for (const host of [
      '127.0.0.1',
      '127.1',
      '2130706433',
      '0x7f000001',
      '[::1]',
      '[::ffff:127.0.0.1]',
    ]) {
      const url = `https://${host}:${site.port}/tiny/model.json`;
      const error = await refusal(url, allowed({ allowHosts: [new URL(url).hostname] }));
      expect(error.message).toBe(
        `the base model at ${url} could not be downloaded: the host is not allowed`,
      );
    }
    // localhost without the test-only loopback option: the real resolver, then refused.
    const named = await refusal(`${site.origin}/tiny/model.json`, allowed({ fence: { ca } }));
    expect(named.message).toMatch(/could not be downloaded: the host is not allowed$/);
    expect(named.detail).toMatch(/localhost resolves to 127\.0\.0\.1/);
    // A name that resolves to a private or metadata address (a fake resolver: no DNS traffic).
    for (const address of ['10.0.0.1', '169.254.169.254', 'fd00::1', '::ffff:192.168.0.1']) {
      const resolve: Resolver = () =>
        Promise.resolve([{ address, family: address.includes(':') ? 6 : 4 }]);
      const error = await refusal(
        'https://models.example.com/model.json',
        allowed({ allowHosts: ['models.example.com'], fence: { resolve } }),
      );
      expect(error.message).toMatch(/the host is not allowed$/);
    }
    expect(site.connections()).toBe(before);
  });

  it('refuses http, file, credentials and hosts off the allow-list', async () => {
    const cases: [string, RegExp][] = [
      [`http://localhost:${site.port}/tiny/model.json`, /only https:\/\/ URLs are allowed$/],
      ['file:///etc/passwd', /only https:\/\/ URLs are allowed$/],
      [`https://user:pw@localhost:${site.port}/tiny/model.json`, /user name or password/],
      ['https://models.example.com/model.json', /the host is not allowed$/],
    ];
    for (const [url, reason] of cases) {
      expect(
        (await refusal(url, allowed({ fence: { ...allowed().fence, resolve: mustNotDownload } })))
          .message,
      ).toMatch(reason);
    }
  });

  it('follows at most 3 redirects, each checked: scheme, allow-list and address', async () => {
    await expect(
      loadBaseModel(`${site.origin}/hop/3/tiny/model.json`, allowed()),
    ).resolves.toBeDefined();
    const far = await refusal(`${site.origin}/hop/4/tiny/model.json`);
    expect(far.message).toMatch(/could not be downloaded: it redirects more than 3 times$/);
    const before = other.connections();
    for (const [to, reason] of [
      ['loopback', /the host is not allowed$/],
      ['http', /only https/],
      ['elsewhere', /the host is not allowed$/],
    ] as const) {
      const error = await refusal(`${site.origin}/away/${to}/model.json`);
      expect(error.message).toMatch(reason);
      expect(error.message).not.toContain(String(other.port));
      expect(error.message).not.toMatch(/127\.0\.0\.1|302|redirect/i);
    }
    expect(other.connections()).toBe(before);
  });

  it('caps each file, the whole model and the number of weight files', async () => {
    const modelJson = Buffer.byteLength(files['model.json']!);
    const weights = Buffer.byteLength(files['weights.bin']!);
    const url = `${site.origin}/tiny/model.json`;
    const largest = Math.max(modelJson, weights);
    const perFile = await refusal(url, allowed({ limits: { maxFileBytes: largest - 1 } }));
    expect(perFile.message).toBe(
      `the base model at ${url} could not be downloaded: one of its files is larger than ${largest - 1} bytes`,
    );
    const total = modelJson + weights;
    const perModel = await refusal(url, allowed({ limits: { maxModelBytes: total - 1 } }));
    expect(perModel.message).toMatch(new RegExp(`: it is larger than ${total - 1} bytes$`));
    // Without a Content-Length, the body is cut off where it passes the cap.
    const chunked = await refusal(
      `${site.origin}/chunked/model.json`,
      allowed({ limits: { maxFileBytes: 4096 } }),
    );
    expect(chunked.message).toMatch(/one of its files is larger than 4096 bytes$/);
    site.requests.length = 0;
    const many = await refusal(
      `${site.origin}/many/model.json`,
      allowed({ limits: { maxFiles: 4 } }),
    );
    expect(many.message).toMatch(/its model\.json names more than 4 weight files$/);
    expect(site.requests).toEqual(['/many/model.json']);
  });

  it('says the same for not found, refused, timed out and untrusted: no map of the network', async () => {
    const port = await closedPort();
    const attempts: [string, BaseModelStoreOptions][] = [
      [`${site.origin}/status/404/model.json`, allowed()],
      [`${site.origin}/status/500/model.json`, allowed()],
      [`https://localhost:${port}/model.json`, allowed()],
      [`${site.origin}/slow/model.json`, allowed({ limits: { timeoutMs: 300 } })],
      [`${site.origin}/tiny/model.json`, allowed({ fence: { allowLoopbackFor: ['localhost'] } })],
    ];
    const details = new Set<string>();
    for (const [url, options] of attempts) {
      const error = await refusal(url, options);
      expect(error.message).toBe(
        `the base model at ${url} could not be downloaded: it is unreachable or not found`,
      );
      details.add(error.detail!);
    }
    // The server's log can still tell them apart.
    expect(details.size).toBe(attempts.length);
    for (const folder of ['notjson', 'notlayers']) {
      const error = await refusal(`${site.origin}/${folder}/model.json`);
      expect(error.message).toMatch(/it is not a valid LayersModel model\.json$/);
    }
  });
});
