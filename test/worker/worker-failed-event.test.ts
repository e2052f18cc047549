import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import { createRedis } from '../../src/queue/redis-connection.js';
import { createTrainingQueue, enqueueTraining } from '../../src/queue/training-queue.js';
import { ensureRedis, type Started } from '../../src/runtime/infrastructure.js';
import { LocalArtifactStore } from '../../src/storage/artifact-store.js';
import { createTrainingWorker } from '../../src/worker/training-worker.js';
import { seedJob } from './job-seeds.js';
import { startTestDatabase, type TestDatabase } from './worker-database.js';

/*
 * A failure outside the job handler (the sandboxed child killed, out of memory, stalled twice)
 * reaches only BullMQ's `failed` event: the real worker's listener must write it to the row.
 */

let database: TestDatabase;
let redisServer: Started;
const store = new LocalArtifactStore(mkdtempSync(join(tmpdir(), 'graft-failed-event-')));

beforeAll(async () => {
  database = await startTestDatabase();
  redisServer = await ensureRedis(undefined, join(tmpdir(), 'graft-it-redis'));
});

afterAll(async () => {
  await database?.close();
  await redisServer?.stop?.();
});

describe('the training worker', () => {
  it("marks a job failed when its processor dies outside the handler (BullMQ's failed event)", async () => {
    const jobs = new TrainingJobsRepository(database.db);
    const { jobId } = await seedJob(database.db, store, { status: 'running' });
    const queueName = `graft-failed-${randomBytes(4).toString('hex')}`;
    const connection = createRedis(redisServer.url, 'worker');
    const queueConnection = createRedis(redisServer.url, 'queue');
    const queue = createTrainingQueue(queueName, queueConnection);
    const worker = createTrainingWorker({
      queueName,
      connection,
      concurrency: 1,
      // Stands in for a child process that crashed: the handler never got to record anything.
      processor: () => Promise.reject(new Error('the child process exited with code 137')),
      jobs,
    });
    try {
      await enqueueTraining(queue, jobId, 1);
      const deadline = Date.now() + 10_000;
      let row = await database.db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
      while (row.status !== 'failed' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        row = await database.db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
      }
      expect(row.status).toBe('failed');
      expect(row.error).toBe('the worker failed: the child process exited with code 137');
    } finally {
      await worker.close();
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      queueConnection.disconnect();
      connection.disconnect();
    }
  });
});
