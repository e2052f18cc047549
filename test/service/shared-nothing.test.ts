import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeysRepository } from '../../src/db/api-keys.repository.js';
import { createDb, type Db } from '../../src/db/prisma-client.js';
import { createRedis } from '../../src/queue/redis-connection.js';
import { createTrainingQueue } from '../../src/queue/training-queue.js';
import {
  applyMigrations,
  DEFAULT_POSTGRES,
  dropDatabase,
  ensurePostgres,
  ensureRedis,
  type Started,
} from '../../src/runtime/infrastructure.js';
import { file, formBody, graftClient, type GraftClient } from '../client/graft-client.js';
import { colourDataset, photo } from '../helpers/dataset-zips.js';
import { startS3Server, type S3Server } from '../helpers/s3-server.js';
import { unzip } from '../helpers/unzip.js';

/*
 * Shared nothing but PostgreSQL, Redis and a bucket: an API process and a worker process, each
 * with its own empty GRAFT_DATA_DIR, both pointed at one S3 bucket (s3rver on loopback). A
 * dataset is uploaded, trained on, predicted with and exported; then neither data folder holds
 * an image or a model outside its bounded caches, and the bucket holds them all. Both are real
 * processes (`node dist/...`, as in production) with only their own environment, so neither
 * can read the other's folder by accident.
 */

const PREFIX = 'graft';
let s3: S3Server;
let postgres: Started;
let redisServer: Started;
let database: string;
let db: Db;
let apiDir: string;
let secondApiDir: string;
let workerDir: string;
let shared: Record<string, string>;
let key: string;
let api: GraftClient;
const processes: ChildProcess[] = [];
const logs: Record<string, string[]> = { api: [], 'second api': [], worker: [] };

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

const built = (path: string) => fileURLToPath(new URL(`../../dist/${path}`, import.meta.url));

/** A Graft entry point (built JS, as the images run it) with this environment and no other. */
function start(name: string, script: string, env: Record<string, string>) {
  const inherited = Object.fromEntries(
    ['PATH', 'HOME', 'TMPDIR', 'LANG'].flatMap((key) =>
      process.env[key] ? [[key, process.env[key]]] : [],
    ),
  ) as Record<string, string>;
  const child = spawn(process.execPath, [built(script)], {
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => logs[name]!.push(chunk.toString());
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  processes.push(child);
  return child;
}

/** An API replica on a free port with its own data folder; a client of it once it is ready. */
async function startApi(name: string, dataDir: string): Promise<GraftClient> {
  const port = await freePort();
  start(name, 'api/server.js', {
    ...shared,
    GRAFT_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  await until(
    `${name} answers /readyz`,
    async () => (await fetch(`${baseUrl}/readyz`)).ok || undefined,
    60_000,
  );
  return graftClient(baseUrl, key);
}

const tail = (name: string) => (logs[name] ?? []).join('').slice(-4000);

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const output = Object.keys(logs).map((name) => `${name}:\n${tail(name)}`);
      throw new Error([`not: ${what} within ${timeoutMs} ms`, ...output].join('\n'));
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

beforeAll(async () => {
  if (!existsSync(built('storage/s3-artifact-store.js')))
    throw new Error('dist/ predates the S3 store: run `npm run build` first');
  s3 = await startS3Server('graft-shared-nothing');
  database = `graft_test_${randomBytes(5).toString('hex')}`;
  postgres = await ensurePostgres(undefined, join(tmpdir(), 'graft-it-postgres'), database);
  redisServer = await ensureRedis(undefined, join(tmpdir(), 'graft-it-redis'));
  await applyMigrations(postgres.url);
  db = createDb(postgres.url);
  apiDir = mkdtempSync(join(tmpdir(), 'graft-api-data-'));
  secondApiDir = mkdtempSync(join(tmpdir(), 'graft-api2-data-'));
  workerDir = mkdtempSync(join(tmpdir(), 'graft-worker-data-'));
  key = (await new ApiKeysRepository(db).create('acme')).key;
  shared = {
    DATABASE_URL: postgres.url,
    REDIS_URL: redisServer.url,
    GRAFT_QUEUE: `graft-test-${randomBytes(4).toString('hex')}`,
    GRAFT_TFJS_BACKEND: 'wasm',
    LOG_LEVEL: 'warn',
    GRAFT_RATE_LIMITS: 'off',
    GRAFT_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...s3.env(PREFIX),
  };
  start('worker', 'worker/main.js', { ...shared, GRAFT_DATA_DIR: workerDir });
  api = await startApi('api', apiDir);
});

afterAll(async () => {
  await Promise.all(processes.map(stop));
  if (shared) {
    const redis = createRedis(shared.REDIS_URL!, 'worker');
    const queue = createTrainingQueue(shared.GRAFT_QUEUE!, redis);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    redis.disconnect();
  }
  await db?.$disconnect();
  if (postgres?.source === 'local')
    await dropDatabase(DEFAULT_POSTGRES, database).catch(() => undefined);
  await postgres?.stop?.();
  await redisServer?.stop?.();
  await s3?.close();
  for (const dir of [apiDir, secondApiDir, workerDir])
    if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Every file below `dir`, '/'-separated and relative to it, and every empty folder ending in '/'. */
function walk(dir: string, root = dir): string[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  if (entries.length === 0 && dir !== root) return [`${relative(root, dir).split(sep).join('/')}/`];
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? walk(path, root) : [relative(root, path).split(sep).join('/')];
  });
}

/**
 * What a process may leave in its data folder: the trained-model file cache (`cache/`), the
 * base-model download cache (`model-cache/`), an embedded PostgreSQL or Redis; `tmp/` only
 * empty (uploads remove their temp files).
 */
const BOUNDED = /^(cache|model-cache|postgres|redis)\//;
const outsideCaches = (files: string[]) =>
  files.filter((path) => !BOUNDED.test(path) && path !== 'tmp/');

async function bucketKeys(): Promise<string[]> {
  const client = s3.client();
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: s3.bucket,
        Prefix: `${PREFIX}/`,
        ContinuationToken: token,
      }),
    );
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys;
}

async function bucketObject(key: string): Promise<Buffer> {
  const object = await s3.client().send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
  return Buffer.from(await object.Body!.transformToByteArray());
}

describe('an API and a worker that share no disk', () => {
  it('upload, train, predict and export through the bucket; each disk holds only caches', async () => {
    const uploaded = await api.POST(
      '/v1/datasets',
      formBody('/v1/datasets', { file: file(await colourDataset(6), 'colours.zip') }),
    );
    expect(uploaded.response.status).toBe(201);
    const datasetId = uploaded.data!.id;

    const submitted = await api.POST('/v1/jobs', {
      body: {
        datasetId,
        fineTuning: { enabled: false },
        // Blue vs red is separable by raw pixels; the model must be the transferred one.
        baseline: { allowShip: false },
      },
    });
    expect(submitted.response.status).toBe(202);
    const jobId = submitted.data!.id;
    const job = await until(
      'the job ends',
      async () => {
        const { data } = await api.GET('/v1/jobs/{id}', { params: { path: { id: jobId } } });
        return data && !['queued', 'running'].includes(data.status) ? data : undefined;
      },
      240_000,
    );
    expect(job, tail('worker')).toMatchObject({ status: 'succeeded', error: null });
    const modelId = job.modelId!;

    const red = await photo([215, 35, 45], 77);
    const predict = (client = api) =>
      client.POST('/v1/models/{id}/predict', {
        params: { path: { id: modelId }, query: { topK: 5 } },
        ...formBody('/v1/models/{id}/predict', { file: [file(red, 'red.jpg', 'image/jpeg')] }),
      });
    const predicted = await predict();
    expect(predicted.response.status, tail('api')).toBe(200);
    expect(predicted.data!.predictions![0]!.label).toBe('red');

    const exported = await api.GET('/v1/models/{id}/export', {
      params: { path: { id: modelId } },
      parseAs: 'arrayBuffer',
    });
    expect(exported.response.status).toBe(200);
    const zipped = await unzip(Buffer.from(exported.data!));
    expect([...zipped.keys()].sort()).toEqual([
      'README.md',
      'metadata.json',
      'model.json',
      'weights.bin',
    ]);

    // The bucket holds the dataset's 12 images and the model; the export is its copy.
    const keys = await bucketKeys();
    const images = keys.filter((key) => key.startsWith(`${PREFIX}/datasets/${datasetId}/images/`));
    expect(images).toHaveLength(12);
    for (const name of ['model.json', 'weights.bin', 'metadata.json'])
      expect(keys).toContain(`${PREFIX}/models/${modelId}/${name}`);
    expect(zipped.get('weights.bin')).toEqual(
      await bucketObject(`${PREFIX}/models/${modelId}/weights.bin`),
    );

    // Neither data folder holds an image or a model outside the bounded caches.
    const apiFiles = walk(apiDir);
    const workerFiles = walk(workerDir);
    expect(outsideCaches(apiFiles)).toEqual([]);
    expect(outsideCaches(workerFiles)).toEqual([]);
    // The API ran the model from its file cache, filled from the bucket; the worker keeps none.
    expect(apiFiles).toEqual(
      expect.arrayContaining([
        `cache/models/${modelId}/model.json`,
        `cache/models/${modelId}/weights.bin`,
      ]),
    );
    expect(workerFiles.filter((path) => /\.(jpe?g|png|bin|json)$/i.test(path))).toEqual([]);

    // Another replica, started later on another empty disk, serves the same model from the
    // bucket alone, with the same scores.
    const second = await startApi('second api', secondApiDir);
    const again = await predict(second);
    expect(again.response.status, tail('second api')).toBe(200);
    for (const [i, p] of again.data!.predictions!.entries()) {
      expect(p.label).toBe(predicted.data!.predictions![i]!.label);
      expect(Math.abs(p.score - predicted.data!.predictions![i]!.score)).toBeLessThan(1e-6);
    }
    const secondFiles = walk(secondApiDir);
    expect(outsideCaches(secondFiles)).toEqual([]);
    expect(secondFiles).toContain(`cache/models/${modelId}/weights.bin`);
  });
});
