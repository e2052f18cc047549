import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrainingJobPayload } from '../../src/contracts/training-job.js';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import { createRedis } from '../../src/queue/redis-connection.js';
import { createTrainingQueue, enqueueTraining } from '../../src/queue/training-queue.js';
import { ensureRedis, type Started } from '../../src/runtime/infrastructure.js';
import { LocalArtifactStore } from '../../src/storage/artifact-store.js';
import type { TrainingJobDeps } from '../../src/worker/run-training-job.js';
import { deliverTrainingJob } from '../../src/worker/training-delivery.js';
import { createTrainingWorker } from '../../src/worker/training-worker.js';
import { seedJob } from './job-seeds.js';
import { epochEnd, stubTrainer } from './stub-trainer.js';
import { startTestDatabase, type TestDatabase } from './worker-database.js';

/*
 * Closing a worker (what SIGTERM does) drains it: its run stops at the next batch, hands the
 * job back to the queue with its progress, and another worker finishes it.
 */

let database: TestDatabase;
let redisServer: Started;
const store = new LocalArtifactStore(mkdtempSync(join(tmpdir(), 'graft-drain-')));

beforeAll(async () => {
  database = await startTestDatabase();
  redisServer = await ensureRedis(undefined, join(tmpdir(), 'graft-it-redis'));
});

afterAll(async () => {
  await database?.close();
  await redisServer?.stop?.();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a draining worker', () => {
  it('hands its running job back at once, and the next worker finishes it', async () => {
    const jobs = new TrainingJobsRepository(database.db);
    const { jobId } = await seedJob(database.db, store);
    const queueName = `graft-drain-${randomBytes(4).toString('hex')}`;
    const queueConnection = createRedis(redisServer.url, 'queue');
    const queue = createTrainingQueue(queueName, queueConnection);
    let batches = 0;
    // A long run: a batch every 50 ms until it is stopped.
    const slow = stubTrainer({
      during: async (run) => {
        for (;;) {
          run.onProgress({ ...epochEnd, progress: Math.min(0.9, 0.3 + batches++ / 100) });
          await sleep(50);
          run.signal.throwIfAborted();
        }
      },
    });
    const deps = (train: TrainingJobDeps['train']): TrainingJobDeps => ({
      jobs,
      datasets: new DatasetsRepository(database.db),
      store,
      train,
      backendName: () => Promise.resolve('stub-backend'),
      progressIntervalMs: 0,
      limitsFor: () => Promise.resolve({ maxSeconds: 3600, maxSecondsSource: 'a test' }),
    });
    const connections: ReturnType<typeof createRedis>[] = [];
    const workerWith = (train: TrainingJobDeps['train']) =>
      createTrainingWorker({
        queueName,
        connection: connections[connections.push(createRedis(redisServer.url, 'worker')) - 1]!,
        concurrency: 1,
        processor: (job: Job<TrainingJobPayload>, token?: string, signal?: AbortSignal) =>
          deliverTrainingJob(deps(train), job, token, signal),
        jobs,
        recovery: { lockMs: 2000, stalledIntervalMs: 1000, maxStalls: 3 },
      });
    const first = workerWith(slow.train);
    let second: ReturnType<typeof workerWith> | undefined;
    try {
      await enqueueTraining(queue, jobId, 1);
      while (batches < 5) await sleep(20);
      const closing = performance.now();
      await first.close();
      expect(performance.now() - closing).toBeLessThan(2000);
      const handedBack = await database.db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
      expect(handedBack).toMatchObject({ status: 'queued', attempt: 1, error: null });
      expect(handedBack.progress).toBeGreaterThanOrEqual(0.3);
      expect(await (await queue.getJob(jobId))?.getState()).toMatch(/^(waiting|prioritized)$/);

      const quick = stubTrainer({ progress: false });
      second = workerWith(quick.train);
      const deadline = Date.now() + 10_000;
      let row = handedBack;
      while (row.status !== 'succeeded' && Date.now() < deadline) {
        await sleep(50);
        row = await database.db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
      }
      expect(row).toMatchObject({ status: 'succeeded', attempt: 2 });
      expect(row.progress).toBe(1);
    } finally {
      await first.close();
      await second?.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      queueConnection.disconnect();
      connections.forEach((connection) => connection.disconnect());
    }
  });
});
