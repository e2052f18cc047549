/**
 * bench:predict — trains a real model (MobileNetV2-0.35 head on hymenoptera, or the offline
 * default base), serves it with the real API in its own process, and fires one-image predict
 * requests over loopback HTTP at concurrency 1 and 16 for a fixed time each, probing /healthz
 * all along to show the API's event loop stays responsive. Prints one JSON object.
 *
 *   npm run bench:predict -- [--json] [--seconds 15] [--data <dir>]
 */
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
  },
});
const seconds = Number(values.seconds);
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
    metrics: { evaluation: report.evaluation } as unknown as Prisma.InputJsonValue,
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

async function predictOnce(image: Buffer): Promise<boolean> {
  const { response } = await api.POST('/v1/models/{id}/predict', {
    // topK 5 is the server's default; the document marks it required.
    params: { path: { id: modelId }, query: { topK: 5 } },
    ...formBody('/v1/models/{id}/predict', { file: [file(image, 'image.jpg', 'image/jpeg')] }),
    // Read the body whole, unparsed, as the bench always has.
    parseAs: 'arrayBuffer',
  });
  return response.ok;
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

async function load(concurrency: number) {
  let next = 0;
  let errors = 0;
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const done = () => performance.now() > deadline;
  const probe = healthzProbe(done);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!done()) {
        const begin = performance.now();
        const ok = await predictOnce(images[next++ % images.length]!);
        latencies.push(performance.now() - begin);
        if (!ok) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return {
    concurrency,
    requests: latencies.length,
    errors,
    requestsPerSecond: latencies.length / elapsed,
    latencyMs: summary(latencies),
    healthzLatencyMs: summary(await probe),
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
  for (const concurrency of [1, 16]) {
    log(`concurrency ${concurrency} for ${seconds} s`);
    runs.push(await load(concurrency));
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
