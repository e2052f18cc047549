import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TRAINING_JOB_PAYLOAD_VERSION } from '../../src/contracts/training-job.js';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import { createRedis } from '../../src/queue/redis-connection.js';
import {
  createTrainingQueue,
  dropQueued,
  enqueueTraining,
  type TrainingQueue,
} from '../../src/queue/training-queue.js';
import { ensureRedis, type Started } from '../../src/runtime/infrastructure.js';
import { LocalArtifactStore } from '../../src/storage/artifact-store.js';
import type { LimitsFor } from '../../src/worker/tenant-limits.js';
import { deliverTrainingJob } from '../../src/worker/training-delivery.js';
import { createTrainingWorker, type TrainingWorker } from '../../src/worker/training-worker.js';
import { seedJob, seedTenant, type SeededJob } from '../worker/job-seeds.js';
import { stubTrainer } from '../worker/stub-trainer.js';
import { startTestDatabase, type TestDatabase } from '../worker/worker-database.js';

/*
 * Fair scheduling on the real queue: BullMQ workers on Redis, jobs in PostgreSQL, with a stub
 * trainer that holds each run until the test releases it, so the order of starts is the test's.
 */

let database: TestDatabase;
let redisServer: Started;
let jobs: TrainingJobsRepository;
const store = new LocalArtifactStore(mkdtempSync(join(tmpdir(), 'graft-fairness-store-')));

beforeAll(async () => {
  database = await startTestDatabase();
  redisServer = await ensureRedis(undefined, join(tmpdir(), 'graft-it-redis'));
  jobs = new TrainingJobsRepository(database.db);
});

afterAll(async () => {
  await database?.close();
  await redisServer?.stop?.();
});

/** Training runs held until released, oldest first; each names its job's dataset. */
class Gate {
  readonly held: { datasetId: string; release: () => void }[] = [];
  deliveries = 0;
  deferrals = 0;

  hold(datasetId: string): Promise<void> {
    return new Promise((release) => this.held.push({ datasetId, release }));
  }

  releaseOldest(): void {
    this.held.shift()?.release();
  }
}

interface Cluster {
  queue: TrainingQueue;
  gate: Gate;
  close(): Promise<void>;
}

let cluster: Cluster | undefined;

afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** A fresh queue and `workers` BullMQ workers of concurrency 1, each on its own connection. */
function startCluster(workers: number, limitsFor: LimitsFor): Cluster {
  const gate = new Gate();
  const trainer = stubTrainer({
    progress: false,
    during: (run) => gate.hold(run.examples[0]!.key.split('/')[1]!),
  });
  const deps = {
    jobs,
    datasets: new DatasetsRepository(database.db),
    store,
    train: trainer.train,
    backendName: () => Promise.resolve('stub-backend'),
    progressIntervalMs: 60_000,
    limitsFor,
  };
  const queueName = `graft-fairness-${randomBytes(4).toString('hex')}`;
  const queueConnection = createRedis(redisServer.url, 'worker');
  const queue = createTrainingQueue(queueName, queueConnection);
  const connections: Redis[] = [queueConnection];
  const running: TrainingWorker[] = [];
  for (let i = 0; i < workers; i++) {
    const connection = createRedis(redisServer.url, 'worker');
    connections.push(connection);
    running.push(
      createTrainingWorker({
        queueName,
        connection,
        concurrency: 1,
        jobs,
        processor: async (job, token, signal) => {
          gate.deliveries++;
          try {
            return await deliverTrainingJob(deps, job, token, signal, {
              firstMs: 100,
              maxMs: 400,
            });
          } catch (error) {
            if ((error as Error).name === 'DelayedError') gate.deferrals++;
            throw error;
          }
        },
      }),
    );
  }
  return {
    queue,
    gate,
    async close() {
      while (gate.held.length > 0) gate.releaseOldest();
      await Promise.all(running.map((w) => w.close()));
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      for (const connection of connections) connection.disconnect();
    },
  };
}

const noCaps: LimitsFor = () => Promise.resolve({ maxSeconds: 60, maxSecondsSource: 'a test' });

/** A queued job for `tenantId` on a dataset of its own, enqueued as the API does. */
async function submit(queue: TrainingQueue, tenantId: string, rank?: number) {
  const seeded = await seedJob(database.db, store, {}, tenantId);
  const row = await database.db.trainingJob.findUniqueOrThrow({ where: { id: seeded.jobId } });
  await enqueueTraining(queue, row.id, rank ?? (await jobs.queueRank(row)));
  return seeded;
}

async function until(what: string, condition: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const rowsOf = (ids: string[]) =>
  database.db.trainingJob.findMany({ where: { id: { in: ids } }, orderBy: { startedAt: 'asc' } });
const queuedOf = (tenantId: string) =>
  database.db.trainingJob.count({ where: { tenantId, status: 'queued' } });

/** Releases held runs one at a time until every job in `ids` has finished. */
async function drain(c: Cluster, ids: string[]): Promise<void> {
  await until('every job finished', async () => {
    c.gate.releaseOldest();
    const active = await database.db.trainingJob.count({
      where: { id: { in: ids }, status: { in: ['queued', 'running'] } },
    });
    return active === 0;
  });
}

describe('fair scheduling across tenants', () => {
  it("starts tenant B's job while tenant A still has a backlog (two workers)", async () => {
    cluster = startCluster(2, noCaps);
    const { queue, gate } = cluster;
    const [a, b] = [await seedTenant(database.db), await seedTenant(database.db)];
    const aJobs: SeededJob[] = [];
    for (let i = 0; i < 6; i++) aJobs.push(await submit(queue, a));
    await until('two of A’s jobs run', () => gate.held.length === 2);
    const bJob = await submit(queue, b);

    // The next free worker takes B's job, not A's third.
    gate.releaseOldest();
    await until('B’s job runs', () => gate.held.some((h) => h.datasetId === bJob.datasetId));
    expect(await queuedOf(a)).toBe(4);
    // A's first job ended: its line moved up (one running, then A3..A6).
    const priorities = () =>
      Promise.all(aJobs.slice(2).map(async (j) => (await queue.getJob(j.jobId))?.priority));
    await until('A’s queued jobs are re-ranked', async () =>
      (await priorities()).every((p, i) => p === i + 2),
    );

    const ids = [...aJobs.map((j) => j.jobId), bJob.jobId];
    await drain(cluster, ids);
    const rows = await rowsOf(ids);
    expect(rows.every((r) => r.status === 'succeeded')).toBe(true);
    expect(rows.map((r) => r.tenantId)).toEqual([a, a, b, a, a, a, a]);
    // Ranks put B first: nobody had to be deferred.
    expect(gate.deferrals).toBe(0);
  });

  it('defers the tenant with more running jobs even when the queue order favours it', async () => {
    cluster = startCluster(2, noCaps);
    const { queue, gate } = cluster;
    const [a, b] = [await seedTenant(database.db), await seedTenant(database.db)];
    // Everything is queued before a worker takes anything.
    await queue.pause();
    const aJobs: SeededJob[] = [];
    for (let i = 0; i < 4; i++) aJobs.push(await submit(queue, a));
    // A stale rank puts B behind all of A's jobs: the claim still shares the workers out.
    const bJob = await submit(queue, b, 50);
    await queue.resume();
    await until('two jobs run', () => gate.held.length === 2);
    const tenants = await database.db.trainingJob.findMany({
      where: { status: 'running', id: { in: [...aJobs.map((j) => j.jobId), bJob.jobId] } },
      select: { tenantId: true },
    });
    expect(tenants.map((t) => t.tenantId).sort()).toEqual([a, b].sort());
    expect(await queuedOf(a)).toBe(3);
    expect(gate.deferrals).toBeGreaterThan(0);

    const ids = [...aJobs.map((j) => j.jobId), bJob.jobId];
    await drain(cluster, ids);
    const rows = await rowsOf(ids);
    // Deferred deliveries are neither failures nor attempts.
    expect(rows.map((r) => [r.status, r.error])).toEqual(ids.map(() => ['succeeded', null]));
    for (const id of ids) expect((await queue.getJob(id))?.attemptsMade).toBe(1);
  });

  it('holds a tenant at its running cap with a worker free, without a busy loop', async () => {
    let a = '';
    cluster = startCluster(2, (tenantId) =>
      Promise.resolve({
        ...(tenantId === a ? { maxRunning: 1 } : {}),
        maxSeconds: 60,
        maxSecondsSource: 'a test',
      }),
    );
    const { queue, gate } = cluster;
    a = await seedTenant(database.db);
    const first = await submit(queue, a);
    const second = await submit(queue, a);
    await until('A’s first job runs', () => gate.held.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Deferred with a growing delay (100, 200, 400, 400… ms): a handful of deliveries.
    expect(gate.held).toHaveLength(1);
    expect(gate.deferrals).toBeGreaterThan(0);
    expect(gate.deliveries).toBeLessThan(12);
    expect(await queuedOf(a)).toBe(1);
    const waiting = await queue.getJob(second.jobId);
    expect(waiting?.attemptsMade).toBe(0);
    expect(waiting?.failedReason).toBeUndefined();

    // A's first job ending frees its slot, and the deferred job is offered again at once.
    gate.releaseOldest();
    await until('A’s second job runs', () => gate.held.length === 1);
    const [one, two] = await rowsOf([first.jobId, second.jobId]);
    expect(one!.id).toBe(first.jobId);
    expect(two!.startedAt!.getTime()).toBeGreaterThanOrEqual(one!.finishedAt!.getTime());
    await drain(cluster, [first.jobId, second.jobId]);
  });

  it('drops a cancelled job that waits ranked or deferred', async () => {
    cluster = startCluster(0, noCaps);
    const { queue } = cluster;
    const tenant = await seedTenant(database.db);
    const ranked = await submit(queue, tenant);
    // As a deferral leaves it: delayed, with its rank.
    const deferred = await seedJob(database.db, store, {}, tenant);
    const payload = { version: TRAINING_JOB_PAYLOAD_VERSION, jobId: deferred.jobId } as const;
    await queue.add('train', payload, { jobId: deferred.jobId, priority: 2, delay: 60_000 });
    expect(await (await queue.getJob(ranked.jobId))!.getState()).toBe('prioritized');
    expect(await (await queue.getJob(deferred.jobId))!.getState()).toBe('delayed');
    for (const { jobId } of [ranked, deferred]) await dropQueued(queue, jobId);
    expect(await queue.getJob(ranked.jobId)).toBeUndefined();
    expect(await queue.getJob(deferred.jobId)).toBeUndefined();
  });
});
