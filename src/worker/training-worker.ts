import { Worker, type Processor } from 'bullmq';
import type { Redis } from 'ioredis';
import { compiledModulePath } from '../config/compiled-path.js';
import type { Config, RecoverySettings } from '../config/config.js';
import type { TrainingJobPayload } from '../contracts/training-job.js';
import type { Db } from '../db/prisma-client.js';
import { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createRedis } from '../queue/redis-connection.js';
import type { JobEvents } from '../services/job-events.js';
import { beat, createTrainingQueue, endBeat, workerId } from '../queue/training-queue.js';
import type { FenceTestOptions } from '../storage/url-fence.js';
import { selectBackend } from '../tfjs/tfjs-backend.js';
import { afterJobEnded } from './fair-share.js';
import { recordWorkerFailure } from './job-finish.js';
import { DRAIN_REASON, type JobOutcome } from './job-outcome.js';
import { startProcessReaper } from './reaper.js';
import { startWebhookWorker } from './webhook-worker.js';
import { observeTrainingWorker } from './worker-metrics.js';

/** Compiled JS: under a TypeScript loader the child would not see its parent disconnect. */
export const processorPath = (): string => compiledModulePath('worker/training.processor.js');

export interface TrainingWorkerOptions {
  queueName: string;
  /** A worker-role connection (retries forever); the worker and its queue handle share it. */
  connection: Redis;
  concurrency: number;
  /** The sandboxed processor's file, or a function run in this process (tests). */
  processor: string | Processor<TrainingJobPayload, JobOutcome>;
  jobs: TrainingJobsRepository;
  /** Lock and stall settings (BullMQ's defaults when absent: 30 s locks, 1 stall). */
  recovery?: Pick<RecoverySettings, 'lockMs' | 'stalledIntervalMs' | 'maxStalls'>;
  /** Where failures outside the processor are logged (the default logger without). */
  logger?: Logger;
  /** Where a failure outside the processor is told as the job's state; none without. */
  events?: JobEvents;
}

export interface TrainingWorker {
  worker: Worker<TrainingJobPayload, JobOutcome>;
  /**
   * Drains: every run saves where it is and hands its job back to the queue, then the worker
   * stops. Bound it from outside (a run stops within a batch, but a batch can be slow).
   */
  close(): Promise<void>;
}

/**
 * A BullMQ worker for training jobs, with what happens around them in this process: a failure
 * outside the processor is written to the row, and a job's end re-ranks its tenant's line and
 * offers deferred jobs again (fair-share.ts).
 */
export function createTrainingWorker(options: TrainingWorkerOptions): TrainingWorker {
  const { connection, jobs } = options;
  const worker = new Worker<TrainingJobPayload, JobOutcome>(options.queueName, options.processor, {
    connection,
    concurrency: options.concurrency,
    useWorkerThreads: false,
    // A dead worker's job is noticed once its lock lapses (at most lockMs + stalledIntervalMs)
    // and picked up again, from its checkpoint, up to maxStalls times.
    ...(options.recovery
      ? {
          lockDuration: options.recovery.lockMs,
          stalledInterval: options.recovery.stalledIntervalMs,
          maxStalledCount: options.recovery.maxStalls,
        }
      : {}),
  });
  const queue = createTrainingQueue(options.queueName, connection);
  observeTrainingWorker(worker);
  // Event handlers have no caller to report to: a failed write is dropped, never thrown.
  worker.on('failed', (job, error) => {
    void recordWorkerFailure(jobs, job, error, options.logger, options.events)
      .catch(() => false)
      .then(() => afterJobEnded(jobs, queue, job));
  });
  worker.on('completed', (job) => void afterJobEnded(jobs, queue, job));
  return {
    worker,
    async close() {
      worker.cancelAllJobs(DRAIN_REASON);
      await worker.close();
      await queue.close();
    },
  };
}

export interface RunningWorker {
  worker: Worker<TrainingJobPayload, JobOutcome>;
  /** The tfjs backend this machine trains on. */
  backend: string;
  close(): Promise<void>;
}

export interface StartWorkerOptions {
  /** Test-only fence exceptions for webhook deliveries (a receiver on loopback). */
  webhookFence?: FenceTestOptions;
  /** Publishes the state changes this process makes (failures outside the processor, the reaper). */
  events?: JobEvents;
}

/**
 * A training worker running jobs in sandboxed child processes, heartbeating in Redis, and
 * delivering webhooks (webhook-worker.ts) beside them. The database client is the caller's
 * (built by runtime/wiring.ts) and stays open on close.
 */
export async function startTrainingWorker(
  config: Config & { redisUrl: string; databaseUrl: string },
  db: Db,
  options: StartWorkerOptions = {},
): Promise<RunningWorker> {
  const backend = await selectBackend(config.tfjsBackend);
  const logger = createLogger({ level: config.logLevel });
  const connection = createRedis(config.redisUrl, 'worker');
  const training = createTrainingWorker({
    queueName: config.queueName,
    connection,
    concurrency: config.workerConcurrency,
    processor: processorPath(),
    jobs: new TrainingJobsRepository(db),
    recovery: config.recovery,
    logger,
    ...(options.events ? { events: options.events } : {}),
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
  // Re-enqueues jobs nothing will deliver and removes orphaned files (reaper.ts).
  const reaper = startProcessReaper(config, db, logger, options.events);
  const webhooks = startWebhookWorker({
    queueName: config.queueName,
    connection,
    db,
    settings: config.webhooks,
    ...(options.webhookFence ? { fence: options.webhookFence } : {}),
    logger,
  });
  return {
    worker: training.worker,
    backend: backend.name,
    async close() {
      clearInterval(timer);
      // The drain first: a reaper pass in flight must not eat into its bound.
      await Promise.all([training.close(), reaper.stop(), webhooks.close()]);
      await endBeat(connection, heartbeat.id).catch(() => undefined);
      connection.disconnect();
    },
  };
}
