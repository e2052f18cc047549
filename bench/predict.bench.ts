/**
 * bench:predict — trains a real model (MobileNetV2-0.35 head on hymenoptera, or the offline
 * default base), serves it with the real API in its own process, and fires one-image predict
 * requests over loopback HTTP at concurrency 1 and 16 for a fixed time each, probing /healthz
 * all along to show the API's event loop stays responsive, and sampling the API process's
 * RSS. Then a saturation run (far more clients than the server admits; each sends again as
 * soon as it is answered, or after the Retry-After of a 503) shows it shedding load with fast
 * 503s instead of queueing: latency of what it serves and its memory stay flat. Prints one
 * JSON object.
 *
 *   npm run bench:predict -- [--json] [--seconds 15 (5 with --compare-stores)] [--data <dir>]
 *     [--concurrency 1,16] [--saturation 256 (0: skip; the default with --compare-stores)]
 *     [--store local|s3] [--compare-stores [--rounds 6]] [--no-reference]
 *
 * The API serves through ONNX Runtime (GRAFT_ONNX=auto). Unless `--no-reference` (or with
 * `--compare-stores`), the same concurrencies then run against an API on tfjs alone
 * (GRAFT_ONNX=off, how Graft served before ONNX Runtime), and `onnxOverTfjs` gives the ratios
 * per concurrency: requests/s, p50, p99, and /healthz p99 under that load.
 *
 * The model is put into an artifact store the API reads it from (GRAFT_STORAGE_URL): a folder
 * (`--store local`, the default) or a bucket on an s3rver the bench starts on loopback (`--store
 * s3`). The API copies it into its local model cache on the first request, whose latency is
 * `firstRequestMs`. `--compare-stores` runs `--rounds` rounds; each starts a fresh API process
 * per store (each with an empty GRAFT_DATA_DIR, so the s3 one has to fetch the model from the
 * bucket) and, at each concurrency, loads them in turn for `--seconds` each, the rounds in ABBA
 * order (local, s3, s3, local, …): on a noisy machine neighbouring slices see the same load. It
 * prints req/s and p50 per concurrency for both, and the ratios s3/local.
 */
import { readFile, rm } from 'node:fs/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/config.js';
import { ApiKeysRepository } from '../src/db/api-keys.repository.js';
import type { Prisma } from '../src/db/generated/client.js';
import { createDb } from '../src/db/prisma-client.js';
import {
  applyMigrations,
  DEFAULT_POSTGRES,
  dropDatabase,
  ensurePostgres,
  ensureRedis,
} from '../src/runtime/infrastructure.js';
import { trainFromFolder } from '../src/services/folder-training.service.js';
import { file, formBody, graftClient, type GraftClient } from '../test/client/graft-client.js';
import {
  interleaved,
  mean,
  median,
  openBenchStore,
  putFiles,
  STORE_KINDS,
  type BenchStore,
  type StoreKind,
} from './bench-stores.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    // Default 15, or 5 per slice with --compare-stores.
    seconds: { type: 'string' },
    data: { type: 'string', default: '../shared/datasets/hymenoptera' },
    concurrency: { type: 'string', default: '1,16' },
    // Default 256, or 0 with --compare-stores.
    saturation: { type: 'string' },
    store: { type: 'string', default: 'local' },
    'compare-stores': { type: 'boolean', default: false },
    rounds: { type: 'string', default: '6' },
    'no-reference': { type: 'boolean', default: false },
  },
});

/** What runs the predictions: ONNX Runtime (GRAFT_ONNX=auto, the default) or tfjs only. */
type Engine = 'onnx' | 'tfjs';
const storeKind = values.store as StoreKind;
const rounds = Number(values.rounds);
if (!STORE_KINDS.includes(storeKind) || !(Number.isInteger(rounds) && rounds > 0)) {
  console.error('bench:predict: --store is local or s3; --rounds a whole number above 0');
  process.exit(2);
}
const seconds = Number(values.seconds ?? (values['compare-stores'] ? 5 : 15));
const concurrencies = values.concurrency.split(',').map(Number);
const saturation = Number(values.saturation ?? (values['compare-stores'] ? 0 : 256));
const dataDir = resolve(values.data);
if (!existsSync(dataDir)) {
  console.error(`bench:predict needs labelled photos at ${dataDir}`);
  process.exit(2);
}
const mirror = resolve('../shared/models');
const base = existsSync(join(mirror, 'mobilenet_v2_0.35_224_imagenet'))
  ? 'mobilenet_v2_0.35'
  : undefined;
const log = (message: string) => console.error(`[bench:predict] ${message}`);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? NaN,
  };
};

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

// --- infrastructure and a trained model -------------------------------------------------
const workDir = mkdtempSync(join(tmpdir(), 'graft-bench-predict-'));
const database = `graft_bench_${randomBytes(4).toString('hex')}`;
const postgres = await ensurePostgres(undefined, join(workDir, 'pg'), database);
const redis = await ensureRedis(undefined, join(workDir, 'redis'));
await applyMigrations(postgres.url);
const db = createDb(postgres.url);
const { key, tenantId } = await new ApiKeysRepository(db).create('bench');
const modelId = randomUUID();
const artifactKey = `models/${modelId}`;
const modelDir = join(workDir, 'model');
log(`training a model on ${dataDir} (${base ?? 'offline default base'})`);
const trained = await trainFromFolder({
  dataDir,
  spec: {
    ...(base ? { baseModel: base } : {}),
    featureExtraction: { epochs: 5 },
    fineTuning: { enabled: false },
  },
  outDir: modelDir,
  config: loadConfig({ GRAFT_MODEL_MIRROR: mirror, GRAFT_DATA_DIR: join(workDir, 'data') }),
});
const { report } = trained;
await db.model.create({
  data: {
    id: modelId,
    tenantId,
    baseModel: report.base.id,
    labels: report.labels,
    inputSize: report.base.preprocessing.size,
    preprocessing: report.base.preprocessing as unknown as Prisma.InputJsonValue,
    metrics: { evaluation: report.evaluation },
    kept: report.kept,
    keptReason: report.keptReason,
    artifactKey,
  },
});

/** A store holding the model under its artifact key, as the worker leaves it. */
async function storeWithModel(kind: StoreKind): Promise<BenchStore> {
  const opened = await openBenchStore(kind);
  const files = readdirSync(modelDir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => ({ key: `${artifactKey}/${entry.name}`, path: join(modelDir, entry.name) }));
  const put = await putFiles(opened.store, files);
  log(`model put into the ${kind} store (${opened.location}): ${put.files} files, ${put.bytes} B`);
  return opened;
}

const images = readdirSync(join(dataDir, 'val', 'ants'))
  .slice(0, 16)
  .map((name) => readFileSync(join(dataDir, 'val', 'ants', name)))
  .concat(
    readdirSync(join(dataDir, 'val', 'bees'))
      .slice(0, 16)
      .map((name) => readFileSync(join(dataDir, 'val', 'bees', name))),
  );

// --- the API in its own process ------------------------------------------------------------

interface Api {
  process: ChildProcess;
  /** The typed client: a route that drifts from openapi.yaml fails to compile here too. */
  client: GraftClient;
  /** /healthz needs no key; probe it as a load balancer would, without one. */
  probe: GraftClient;
  url: string;
}

/** A fresh API process (its own empty GRAFT_DATA_DIR: no model cached) on `store`. */
async function startApi(store: BenchStore, index: number, engine: Engine = 'onnx'): Promise<Api> {
  const port = await freePort();
  const server = spawn(process.execPath, ['dist/api/server.js'], {
    env: {
      ...process.env,
      ...store.env,
      // The engine under test; `tfjs` is how Graft served before ONNX Runtime.
      GRAFT_ONNX: engine === 'onnx' ? 'auto' : 'off',
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      GRAFT_DATA_DIR: join(workDir, `api-${index}`),
      PORT: String(port),
      LOG_LEVEL: 'warn',
      // One key fires every request: measure serving, not the per-key predict budget.
      GRAFT_RATE_PREDICT: '1000000/1s',
      // Scraped between runs (untimed): how requests were batched, what the store was asked.
      GRAFT_METRICS: 'open',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  const api = { process: server, client: graftClient(url, key), probe: graftClient(url), url };
  for (let i = 0; i < 100; i++) {
    if (
      await api.probe.GET('/healthz').then(
        ({ response }) => response.ok,
        () => false,
      )
    )
      break;
    await new Promise((done) => setTimeout(done, 100));
  }
  return api;
}

async function stopApi(api: Api): Promise<void> {
  if (api.process.exitCode !== null || api.process.signalCode !== null) return;
  const exited = new Promise((done) => api.process.once('exit', done));
  api.process.kill('SIGTERM');
  await exited;
}

/** The API process's resident set, sampled every 100 ms while `stop` is false (Linux). */
async function peakRss(api: Api, stop: () => boolean): Promise<number | null> {
  let peak = 0;
  while (!stop()) {
    const status = await readFile(`/proc/${api.process.pid}/status`, 'utf8').catch(() => '');
    const kib = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    peak = Math.max(peak, kib * 1024);
    await new Promise((done) => setTimeout(done, 100));
  }
  return peak || null;
}

/** The answer's status, and its Retry-After in seconds (0 without one). */
async function predictOnce(
  api: Api,
  image: Buffer,
): Promise<{ status: number; retryAfter: number }> {
  const { response } = await api.client.POST('/v1/models/{id}/predict', {
    // topK 5 is the server's default; the document marks it required.
    params: { path: { id: modelId }, query: { topK: 5 } },
    ...formBody('/v1/models/{id}/predict', { file: [file(image, 'image.jpg', 'image/jpeg')] }),
    // Read the body whole, unparsed, as the bench always has.
    parseAs: 'arrayBuffer',
  });
  return { status: response.status, retryAfter: Number(response.headers.get('retry-after') ?? 0) };
}

async function healthzProbe(api: Api, stop: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  while (!stop()) {
    const started = performance.now();
    await api.probe.GET('/healthz', { parseAs: 'arrayBuffer' });
    latencies.push(performance.now() - started);
    await new Promise((done) => setTimeout(done, 50));
  }
  return latencies;
}

/** Sums from the API's /metrics: its inference batches and its artifact-store operations. */
async function apiCounters(api: Api) {
  const text = await fetch(`${api.url}/metrics`).then(
    (response) => (response.ok ? response.text() : ''),
    () => '',
  );
  const total = (series: string) =>
    text
      .split('\n')
      .filter((line) => line.startsWith(series))
      .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
  return {
    batches: total('graft_inference_batch_images_count'),
    images: total('graft_inference_batch_images_sum'),
    batchSeconds: total('graft_inference_batch_duration_seconds_sum'),
    storeOperations: total('graft_storage_operation_duration_seconds_count'),
  };
}

/**
 * `concurrency` clients, each sending again as soon as it is answered, or, told to retry
 * after a while (503, 429), once that while has passed, as well-behaved clients do.
 */
async function load(api: Api, concurrency: number) {
  let next = 0;
  const latencies: number[] = [];
  // By status: 200 served, 503 shed (busy), anything else an error.
  const byStatus = new Map<number, number[]>();
  const before = await apiCounters(api);
  const deadline = performance.now() + seconds * 1000;
  const done = () => performance.now() > deadline;
  const probe = healthzProbe(api, done);
  const rss = peakRss(api, done);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!done()) {
        const begin = performance.now();
        const { status, retryAfter } = await predictOnce(
          api,
          images[next++ % images.length]!,
        ).catch(() => ({ status: 0, retryAfter: 0 }));
        const latency = performance.now() - begin;
        latencies.push(latency);
        byStatus.set(status, [...(byStatus.get(status) ?? []), latency]);
        // With jitter, so that shed clients do not all come back at once.
        if (retryAfter > 0)
          await new Promise((resume) =>
            setTimeout(resume, retryAfter * (500 + Math.random() * 1000)),
          );
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const served = byStatus.get(200) ?? [];
  const shed = byStatus.get(503) ?? [];
  const after = await apiCounters(api);
  const batches = after.batches - before.batches;
  return {
    concurrency,
    requests: latencies.length,
    errors: latencies.length - served.length - shed.length,
    shed: shed.length,
    requestsPerSecond: latencies.length / elapsed,
    servedPerSecond: served.length / elapsed,
    latencyMs: summary(latencies),
    servedLatencyMs: summary(served),
    shedLatencyMs: summary(shed),
    healthzLatencyMs: summary(await probe),
    peakApiRssBytes: await rss,
    inferenceBatches: {
      count: batches,
      meanImages: (after.images - before.images) / batches,
      meanMs: ((after.batchSeconds - before.batchSeconds) * 1000) / batches,
    },
    /** Artifact-store operations the API made meanwhile: none once the model is cached. */
    apiStoreOperations: after.storeOperations - before.storeOperations,
  };
}

/**
 * The first request (the API fetches the model from the store and loads it), then one more to
 * warm up; the first one's latency.
 */
async function coldStart(api: Api, kind: StoreKind) {
  log(`${kind} store: first request (the model comes from the store)`);
  const before = await apiCounters(api);
  const first = performance.now();
  const { status } = await predictOnce(api, images[0]!);
  const firstRequestMs = performance.now() - first;
  if (status !== 200)
    throw new Error(`the first prediction on the ${kind} store answered ${status}`);
  const storeOperations = (await apiCounters(api)).storeOperations - before.storeOperations;
  log('warming up');
  await predictOnce(api, images[1]!);
  return { firstRequestMs, firstRequestStoreOperations: storeOperations };
}

async function saturate(api: Api, kind: StoreKind) {
  if (saturation <= 0) return {};
  log(`${kind} store: saturation, concurrency ${saturation} for ${seconds} s`);
  return { saturation: await load(api, saturation) };
}

/** One API process on `store`: its first (cold) request, then the runs. */
async function serve(store: BenchStore, engine: Engine = 'onnx', withSaturation = true) {
  const api = await startApi(store, engine === 'onnx' ? 0 : 1, engine);
  try {
    const cold = await coldStart(api, store.kind);
    const idleHealthz = summary(
      await healthzProbe(
        api,
        (
          (end) => () =>
            performance.now() > end
        )(performance.now() + 2000),
      ),
    );
    const runs = [];
    for (const concurrency of concurrencies) {
      log(`${store.kind} store: concurrency ${concurrency} for ${seconds} s`);
      runs.push(await load(api, concurrency));
    }
    return {
      store: store.kind,
      engine,
      ...cold,
      idleHealthzLatencyMs: idleHealthz,
      runs,
      ...(withSaturation ? await saturate(api, store.kind) : {}),
    };
  } finally {
    await stopApi(api);
  }
}

type Served = Awaited<ReturnType<typeof serve>>;

/**
 * ONNX Runtime against tfjs (GRAFT_ONNX=off, how Graft served before), measured in this run:
 * per concurrency, the ratios onnx/tfjs of requests per second and of latency percentiles.
 */
function engineRatios(onnx: Served, tfjs: Served) {
  return Object.fromEntries(
    onnx.runs.map((run) => {
      const reference = tfjs.runs.find((r) => r.concurrency === run.concurrency)!;
      return [
        `concurrency${run.concurrency}`,
        {
          requestsPerSecond: run.requestsPerSecond / reference.requestsPerSecond,
          p50Ms: run.latencyMs.p50 / reference.latencyMs.p50,
          p99Ms: run.latencyMs.p99 / reference.latencyMs.p99,
          healthzP99Ms: run.healthzLatencyMs.p99 / reference.healthzLatencyMs.p99,
        },
      ];
    }),
  );
}

type Slice = Awaited<ReturnType<typeof load>> & { store: StoreKind };

/** Per store and concurrency, the mean over its slices; the ratios s3/local. */
function comparison(slices: Slice[]) {
  const stats = (concurrency: number, kind: StoreKind) => {
    const mine = slices.filter((s) => s.store === kind && s.concurrency === concurrency);
    return {
      requestsPerSecond: mean(mine.map((run) => run.requestsPerSecond)),
      servedPerSecond: mean(mine.map((run) => run.servedPerSecond)),
      p50Ms: mean(mine.map((run) => run.latencyMs.p50)),
      p95Ms: mean(mine.map((run) => run.latencyMs.p95)),
    };
  };
  const byStore = (kind: StoreKind) =>
    Object.fromEntries(concurrencies.map((c) => [`c${c}`, stats(c, kind)]));
  /** Each neighbouring pair's ratio (slices 1-2, 3-4, …), the median of them: burst-proof. */
  const medianOfPairs = (concurrency: number, pick: (slice: Slice) => number) => {
    const mine = slices.filter((s) => s.concurrency === concurrency);
    const ratios = [];
    for (let i = 0; i + 1 < mine.length; i += 2) {
      const [a, b] = [mine[i]!, mine[i + 1]!];
      const [local, s3] = a.store === 'local' ? [a, b] : [b, a];
      ratios.push(pick(s3) / pick(local));
    }
    return median(ratios);
  };
  const s3OverLocal = Object.fromEntries(
    concurrencies.map((c) => {
      const local = stats(c, 'local');
      const s3 = stats(c, 's3');
      return [
        `c${c}`,
        {
          requestsPerSecond: s3.requestsPerSecond / local.requestsPerSecond,
          servedPerSecond: s3.servedPerSecond / local.servedPerSecond,
          p50Ms: s3.p50Ms / local.p50Ms,
          p95Ms: s3.p95Ms / local.p95Ms,
          medianOfPairs: {
            requestsPerSecond: medianOfPairs(c, (slice) => slice.requestsPerSecond),
            p50Ms: medianOfPairs(c, (slice) => slice.latencyMs.p50),
          },
        },
      ];
    }),
  );
  return {
    stores: { local: byStore('local'), s3: byStore('s3') },
    s3OverLocal,
    // Within 10%: s3 serves at least 90% of local's rate, with a median at most 10% slower.
    withinTenPercent: Object.values(s3OverLocal).every(
      (ratio) => ratio.requestsPerSecond >= 0.9 && ratio.p50Ms <= 1.1,
    ),
  };
}

/**
 * Per round, a fresh API process per store, both up; at each concurrency, a slice of `seconds`
 * on each in turn, rounds in ABBA order, so that neighbouring slices see the same machine (the
 * idle process only waits) and no one process's luck (wasm tier-up, memory layout) decides.
 */
async function compareStores(stores: BenchStore[]) {
  const byKind = new Map<StoreKind, BenchStore>();
  for (const kind of STORE_KINDS) {
    const store = await storeWithModel(kind);
    stores.push(store);
    byKind.set(kind, store);
  }
  const order = interleaved(rounds);
  const firstRequests: Record<StoreKind, Awaited<ReturnType<typeof coldStart>>[]> = {
    local: [],
    s3: [],
  };
  const slices: Slice[] = [];
  const saturated: Partial<Record<StoreKind, unknown>> = {};
  for (let round = 0; round < rounds; round++) {
    const pair = order.slice(2 * round, 2 * round + 2);
    const apis = new Map<StoreKind, Api>();
    try {
      for (const kind of pair) {
        const api = await startApi(byKind.get(kind)!, 2 * round + apis.size);
        apis.set(kind, api);
        firstRequests[kind].push(await coldStart(api, kind));
      }
      for (const concurrency of concurrencies) {
        for (const kind of pair) {
          log(
            `round ${round + 1}/${rounds}, ${kind} store: concurrency ${concurrency} for ${seconds} s`,
          );
          slices.push({ store: kind, ...(await load(apis.get(kind)!, concurrency)) });
        }
      }
      if (round === rounds - 1)
        for (const kind of pair)
          saturated[kind] = (await saturate(apis.get(kind)!, kind)).saturation;
    } finally {
      for (const api of apis.values()) await stopApi(api);
    }
  }
  return {
    store: 'compare',
    order,
    firstRequests,
    slices,
    ...(saturation > 0 ? { saturation: saturated } : {}),
    ...comparison(slices),
  };
}

const stores: BenchStore[] = [];
try {
  const common = {
    bench: 'predict',
    model: {
      base: report.base.id,
      labels: report.labels,
      inputSize: report.base.preprocessing.size,
      valAccuracy: report.evaluation.accuracy,
    },
    backend: trained.backend.name,
    imagesPerRequest: 1,
    secondsPerRun: seconds,
  };
  let result;
  if (values['compare-stores']) {
    result = { ...common, ...(await compareStores(stores)) };
  } else {
    const opened = await storeWithModel(storeKind);
    stores.push(opened);
    const onnx = await serve(opened);
    if (values['no-reference']) result = { ...common, ...onnx };
    else {
      log('the same load on tfjs (GRAFT_ONNX=off), for reference');
      const tfjs = await serve(opened, 'tfjs', false);
      result = { ...common, ...onnx, tfjsReference: tfjs, onnxOverTfjs: engineRatios(onnx, tfjs) };
    }
  }
  console.log(JSON.stringify(result, null, 2));
} finally {
  for (const opened of stores) await opened.close();
  await db.$disconnect();
  if (postgres.source === 'local')
    await dropDatabase(DEFAULT_POSTGRES, database).catch(() => undefined);
  await postgres.stop?.();
  await redis.stop?.();
  await rm(workDir, { recursive: true, force: true });
}
