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
 *   npm run bench:predict -- [--json] [--seconds 15] [--data <dir>]
 *     [--concurrency 1,16] [--saturation 256 (0: skip)]
 */
import { readFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
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
import { file, formBody, graftClient } from '../test/client/graft-client.js';

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '15' },
    data: { type: 'string', default: '../shared/datasets/hymenoptera' },
    concurrency: { type: 'string', default: '1,16' },
    saturation: { type: 'string', default: '256' },
  },
});
const seconds = Number(values.seconds);
const concurrencies = values.concurrency.split(',').map(Number);
const saturation = Number(values.saturation);
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
log(`training a model on ${dataDir} (${base ?? 'offline default base'})`);
const trained = await trainFromFolder({
  dataDir,
  spec: {
    ...(base ? { baseModel: base } : {}),
    featureExtraction: { epochs: 5 },
    fineTuning: { enabled: false },
  },
  outDir: join(workDir, 'data', 'artifacts', artifactKey),
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

// --- the API in its own process ------------------------------------------------------------
const port = await freePort();
const server = spawn(process.execPath, ['dist/api/server.js'], {
  env: {
    ...process.env,
    DATABASE_URL: postgres.url,
    REDIS_URL: redis.url,
    GRAFT_DATA_DIR: join(workDir, 'data'),
    PORT: String(port),
    LOG_LEVEL: 'warn',
    // One key fires every request: measure serving, not the per-key predict budget.
    GRAFT_RATE_PREDICT: '1000000/1s',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
const url = `http://127.0.0.1:${port}`;
// The typed client: a route that drifts from openapi.yaml fails to compile here too.
const api = graftClient(url, key);
// /healthz needs no key; probe it as a load balancer would, without one.
const probe = graftClient(url);
for (let i = 0; i < 100; i++) {
  if (
    await probe.GET('/healthz').then(
      ({ response }) => response.ok,
      () => false,
    )
  )
    break;
  await new Promise((done) => setTimeout(done, 100));
}

const images = readdirSync(join(dataDir, 'val', 'ants'))
  .slice(0, 16)
  .map((name) => readFileSync(join(dataDir, 'val', 'ants', name)))
  .concat(
    readdirSync(join(dataDir, 'val', 'bees'))
      .slice(0, 16)
      .map((name) => readFileSync(join(dataDir, 'val', 'bees', name))),
  );

/** The API process's resident set, sampled every 100 ms while `stop` is false (Linux). */
async function peakRss(stop: () => boolean): Promise<number | null> {
  let peak = 0;
  while (!stop()) {
    const status = await readFile(`/proc/${server.pid}/status`, 'utf8').catch(() => '');
    const kib = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0);
    peak = Math.max(peak, kib * 1024);
    await new Promise((done) => setTimeout(done, 100));
  }
  return peak || null;
}

/** The answer's status, and its Retry-After in seconds (0 without one). */
async function predictOnce(image: Buffer): Promise<{ status: number; retryAfter: number }> {
  const { response } = await api.POST('/v1/models/{id}/predict', {
    // topK 5 is the server's default; the document marks it required.
    params: { path: { id: modelId }, query: { topK: 5 } },
    ...formBody('/v1/models/{id}/predict', { file: [file(image, 'image.jpg', 'image/jpeg')] }),
    // Read the body whole, unparsed, as the bench always has.
    parseAs: 'arrayBuffer',
  });
  return { status: response.status, retryAfter: Number(response.headers.get('retry-after') ?? 0) };
}

async function healthzProbe(stop: () => boolean): Promise<number[]> {
  const latencies: number[] = [];
  while (!stop()) {
    const started = performance.now();
    await probe.GET('/healthz', { parseAs: 'arrayBuffer' });
    latencies.push(performance.now() - started);
    await new Promise((done) => setTimeout(done, 50));
  }
  return latencies;
}

/**
 * `concurrency` clients, each sending again as soon as it is answered, or, told to retry
 * after a while (503, 429), once that while has passed, as well-behaved clients do.
 */
async function load(concurrency: number) {
  let next = 0;
  const latencies: number[] = [];
  // By status: 200 served, 503 shed (busy), anything else an error.
  const byStatus = new Map<number, number[]>();
  const deadline = performance.now() + seconds * 1000;
  const done = () => performance.now() > deadline;
  const probe = healthzProbe(done);
  const rss = peakRss(done);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!done()) {
        const begin = performance.now();
        const { status, retryAfter } = await predictOnce(images[next++ % images.length]!).catch(
          () => ({ status: 0, retryAfter: 0 }),
        );
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
  };
}

try {
  log('warming up');
  await predictOnce(images[0]!);
  const idleHealthz = summary(
    await healthzProbe(
      (
        (end) => () =>
          performance.now() > end
      )(performance.now() + 2000),
    ),
  );
  const runs = [];
  for (const concurrency of concurrencies) {
    log(`concurrency ${concurrency} for ${seconds} s`);
    runs.push(await load(concurrency));
  }
  let saturated;
  if (saturation > 0) {
    log(`saturation: concurrency ${saturation} for ${seconds} s`);
    saturated = await load(saturation);
  }
  console.log(
    JSON.stringify(
      {
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
        idleHealthzLatencyMs: idleHealthz,
        runs,
        ...(saturated ? { saturation: saturated } : {}),
      },
      null,
      2,
    ),
  );
} finally {
  server.kill('SIGTERM');
  await db.$disconnect();
  if (postgres.source === 'local')
    await dropDatabase(DEFAULT_POSTGRES, database).catch(() => undefined);
  await postgres.stop?.();
  await redis.stop?.();
}
