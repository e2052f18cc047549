import { Worker } from 'bullmq';
import { compiledModulePath } from '../config/compiled-path.js';
import type { Config } from '../config/config.js';
import type { TrainingJobPayload } from '../contracts/training-job.js';
import { createDb } from '../db/prisma-client.js';
import { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import { createRedis } from '../queue/redis-connection.js';
import { beat, endBeat, workerId } from '../queue/training-queue.js';
import { selectBackend } from '../tfjs/tfjs-backend.js';
import { recordWorkerFailure } from './job-finish.js';
import type { JobOutcome } from './job-outcome.js';

/** Compiled JS: under a TypeScript loader the child would not see its parent disconnect. */
export const processorPath = (): string => compiledModulePath('worker/training.processor.js');

export interface RunningWorker {
  worker: Worker<TrainingJobPayload, JobOutcome>;
  /** The tfjs backend this machine trains on. */
  backend: string;
  close(): Promise<void>;
}

/** A BullMQ worker that runs training jobs in sandboxed child processes and heartbeats in Redis. */
export async function startTrainingWorker(
  config: Config & { redisUrl: string; databaseUrl: string },
): Promise<RunningWorker> {
  const backend = await selectBackend(config.tfjsBackend);
  const connection = createRedis(config.redisUrl, 'worker');
  const worker = new Worker<TrainingJobPayload, JobOutcome>(config.queueName, processorPath(), {
    connection,
    concurrency: config.workerConcurrency,
    useWorkerThreads: false,
  });
  const db = createDb(config.databaseUrl);
  const jobs = new TrainingJobsRepository(db);
  // An event handler has no caller to report to: a failed write is dropped, never thrown.
  worker.on('failed', (job, error) => {
    void recordWorkerFailure(jobs, job, error).catch(() => undefined);
  });
  const heartbeat = {
    id: workerId(),
    backend: backend.name,
    concurrency: config.workerConcurrency,
    startedAt: new Date().toISOString(),
  };
  const sendBeat = () => beat(connection, heartbeat).catch(() => undefined);
  await sendBeat();
  const timer = setInterval(() => void sendBeat(), 10_000);
  timer.unref();
  return {
    worker,
    backend: backend.name,
    async close() {
      clearInterval(timer);
      await worker.close();
      await endBeat(connection, heartbeat.id).catch(() => undefined);
      connection.disconnect();
      await db.$disconnect();
    },
  };
}
