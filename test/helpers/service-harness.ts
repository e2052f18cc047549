import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { buildApp } from '../../src/api/app.js';
import { loadConfig, type Config } from '../../src/config/config.js';
import type { Db } from '../../src/db/prisma-client.js';
import type { FenceTestOptions } from '../../src/storage/url-fence.js';
import type { TrainingQueue } from '../../src/queue/training-queue.js';
import type { ArtifactStore } from '../../src/storage/artifact-store.js';
import {
  applyMigrations,
  DEFAULT_POSTGRES,
  dropDatabase,
  ensurePostgres,
  ensureRedis,
  type Started,
} from '../../src/runtime/infrastructure.js';
import { wireApi } from '../../src/runtime/wiring.js';
import { startTrainingWorker, type RunningWorker } from '../../src/worker/training-worker.js';

/**
 * A real Graft for integration tests: its own PostgreSQL database (on the local server, or an
 * embedded one if none answers), Redis (local, or a private redis-server), a unique queue,
 * a temporary data folder, the Fastify app, and optionally a worker with sandboxed processors.
 */
export interface Harness {
  app: FastifyInstance;
  db: Db;
  redis: Redis;
  queue: TrainingQueue;
  /** The store the app was wired with. */
  store: ArtifactStore;
  config: Config & { databaseUrl: string; redisUrl: string };
  worker?: RunningWorker;
  newKey(tenant: string): Promise<string>;
  close(): Promise<void>;
}

export async function startHarness(options: {
  worker: boolean;
  env?: Record<string, string>;
  /** Exceptions to the URL fence for webhooks, at the API and the worker (a loopback receiver). */
  webhookFence?: FenceTestOptions;
}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'graft-it-'));
  const database = `graft_test_${randomBytes(5).toString('hex')}`;
  const postgres: Started = await ensurePostgres(
    undefined,
    join(tmpdir(), 'graft-it-postgres'),
    database,
  );
  const redisServer = await ensureRedis(undefined, join(tmpdir(), 'graft-it-redis'));
  await applyMigrations(postgres.url);
  const env: Record<string, string> = {
    DATABASE_URL: postgres.url,
    REDIS_URL: redisServer.url,
    GRAFT_DATA_DIR: dataDir,
    GRAFT_QUEUE: `graft-test-${randomBytes(4).toString('hex')}`,
    GRAFT_TFJS_BACKEND: 'wasm',
    LOG_LEVEL: 'warn',
    // Tests fire requests faster than a small install's limits allow, and block their own event
    // loop (fixtures, tfjs): test/abuse turns rate limits and load shedding on.
    GRAFT_RATE_LIMITS: 'off',
    GRAFT_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...options.env,
  };
  // Sandboxed processors are forked from this process and read the same variables.
  Object.assign(process.env, env);
  const config = loadConfig(process.env) as Harness['config'];
  const fence = options.webhookFence ? { webhookFence: options.webhookFence } : {};
  const parts = wireApi(config, fence);
  const { db, redis, queue, store } = parts;
  const app = await buildApp({ ...parts.app, logger: false });
  // The worker publishes its own state changes (the reaper, failures outside the processor).
  const worker = options.worker
    ? await startTrainingWorker(config, db, { events: parts.events, ...fence })
    : undefined;
  return {
    app,
    db,
    redis,
    queue,
    store,
    config,
    worker,
    newKey: async (tenant) => (await parts.services.keys.create(tenant)).key,
    async close() {
      await worker?.close();
      await app.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await parts.close();
      if (postgres.source === 'local')
        await dropDatabase(DEFAULT_POSTGRES, database).catch(() => undefined);
      await postgres.stop?.();
      await redisServer.stop?.();
    },
  };
}
