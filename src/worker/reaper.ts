import { join } from 'node:path';
import type { Config, RecoverySettings } from '../config/config.js';
import { TRAINING_JOB_PAYLOAD_VERSION } from '../contracts/training-job.js';
import { EmbeddingCacheRepository } from '../db/embedding-cache.repository.js';
import { ModelsRepository } from '../db/models.repository.js';
import type { Db } from '../db/prisma-client.js';
import { TrainingJobsRepository, type StuckJob } from '../db/training-jobs.repository.js';
import { WebhooksRepository } from '../db/webhooks.repository.js';
import { defaultLogger, jobLogger, type Logger } from '../observability/logger.js';
import { createRedis } from '../queue/redis-connection.js';
import { createWebhookQueue } from '../queue/webhook-queue.js';
import type { JobEvents } from '../services/job-events.js';
import { WebhooksService } from '../services/webhooks.service.js';
import {
  createTrainingQueue,
  enqueueTraining,
  type TrainingQueue,
} from '../queue/training-queue.js';
import { artifactStoreFor } from '../storage/artifact-store.js';
import { instrumentStore } from '../storage/instrumented-store.js';
import { afterJobEnded } from './fair-share.js';
import { sweepOrphans, type Guarded, type SweepCounts, type SweepDeps } from './orphan-sweep.js';

/*
 * The reaper: every worker process runs one. PostgreSQL owns job state and Redis only
 * delivers, so a job can be "queued" or "running" in its row with nothing in Redis that will
 * ever deliver it: the API died between inserting the row and enqueueing it, Redis lost its
 * data, or a worker died in a way BullMQ's stalled check cannot see (its entry gone or ended).
 * Each pass finds those jobs and enqueues them again, and removes files nobody owns.
 *
 * No leader election: every worker's reaper runs every pass. Each repair is a guarded update
 * of the row as the reaper read it (status, updatedAt, attempt), so of two reapers racing over
 * one job only one acts, and a job some worker touched meanwhile is left alone. Removing files
 * nobody owns is idempotent. A pass costs one query per 500 stuck-looking jobs, one Redis
 * call per such job and a listing of `models/`, `checkpoints/`, `datasets/` and `embeddings/`.
 */

export interface ReaperDeps extends SweepDeps {
  /** On a fail-fast connection: a pass while Redis is away fails instead of hanging. */
  queue: TrainingQueue;
  /** Where a pass that did something, or a step that failed, is told (`logger` by default). */
  log?: (line: string) => void;
  /** Where each repaired job is logged, bound to it (jobId, tenantId); the default logger without. */
  logger?: Logger;
  /** Where the state changes of repaired jobs are told; none without. */
  events?: JobEvents;
  /** Webhook deliveries older than `days` (finished ones) are removed with the files. */
  webhookLog?: { deliveries: WebhooksRepository; days: number };
  /**
   * Webhook deliveries repaired on every pass: pending ones no queue entry will attempt are
   * queued again, and the final events of jobs finished in the last day that were never
   * dispatched (their publisher died, or Redis failed it) are.
   */
  webhooks?: WebhooksService;
}

export type ReaperSettings = Pick<
  RecoverySettings,
  'lockMs' | 'stalledIntervalMs' | 'maxStalls' | 'reaperIntervalMs' | 'orphanAgeMs'
> & {
  /**
   * A queued job updated more recently than this is left alone: the API may be enqueueing it
   * right now (30 s by default; enqueueing fails fast, in at most a few seconds).
   */
  queuedGraceMs?: number;
  /**
   * Files are swept at most this often (every pass when absent): a sweep lists every dataset
   * and model in the store, which on S3 costs a LIST per thousand keys.
   */
  sweepIntervalMs?: number;
};

export interface ReaperReport {
  /** Queued jobs with no live queue entry (never enqueued, or Redis lost it), enqueued. */
  requeued: number;
  /** Running jobs whose worker and queue entry are gone, queued again with their progress. */
  restarted: number;
  /** Running jobs lost to dead workers more often than `maxStalls` allows, failed. */
  failed: number;
  /** Lost jobs whose cancel had been asked for, cancelled. */
  cancelled: number;
  removed: SweepCounts;
  /** Finished webhook deliveries past the log's retention, removed. */
  prunedDeliveries: number;
  /** Pending webhook deliveries nothing would attempt, queued again. */
  requeuedDeliveries: number;
  /** Deliveries of final job events never dispatched, recorded and queued. */
  redispatchedDeliveries: number;
  /** Steps that threw (each logged); the next pass tries them again. */
  errors: number;
}

export interface Reaper {
  /** One pass now (after any pass in flight). */
  runOnce(): Promise<ReaperReport>;
  /** No further passes; resolves when the one in flight, if any, has ended. */
  stop(): Promise<void>;
}

const QUEUED_GRACE_MS = 30_000;
const PAGE = 500;
/** A pending delivery younger than this is left alone: its dispatcher may be queueing it. */
const DELIVERY_GRACE_MS = 5 * 60_000;
/** Jobs whose final events are re-dispatched: finished within the last day, a minute ago at least. */
const FINAL_EVENTS_SINCE_MS = 86_400_000;
const FINAL_EVENTS_GRACE_MS = 60_000;
/** Jobs whose final events one pass re-dispatches (the rest wait for the next passes). */
const FINAL_EVENTS_PAGE = 100;

/** BullMQ states in which some worker holds the job or will be handed it. */
const LIVE = new Set(['active', 'waiting', 'prioritized', 'delayed', 'waiting-children']);

export const gaveUpMessage = (lost: number) =>
  `the workers running this job were lost ${lost} times; giving up`;

export function startReaper(deps: ReaperDeps, settings: ReaperSettings): Reaper {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let last: Promise<unknown> = Promise.resolve();
  let lastSweep = -Infinity;
  let sweeping: Promise<unknown> | undefined;
  const sweepDue = () => Date.now() - lastSweep >= (settings.sweepIntervalMs ?? 0);
  /** Both parts, in order (what a test or an operator asks for). */
  const runOnce = (): Promise<ReaperReport> => {
    const pass = last.then(() => {
      const files = sweepDue();
      if (files) lastSweep = Date.now();
      return reap(deps, settings, { jobs: true, files });
    });
    last = pass.catch(() => undefined);
    return pass;
  };
  /**
   * On the timer, the file sweep runs beside the job repair, never in front of it: listing a
   * large bucket can take minutes, and lost jobs must not wait for it.
   */
  const tick = async () => {
    if (!sweeping && sweepDue()) {
      lastSweep = Date.now();
      sweeping = reap(deps, settings, { jobs: false, files: true })
        .catch(() => undefined)
        .finally(() => (sweeping = undefined));
    }
    const pass = last.then(() => reap(deps, settings, { jobs: true, files: false }));
    last = pass.catch(() => undefined);
    await pass;
  };
  const schedule = () => {
    if (stopped) return;
    // Jittered, so a fleet's workers started together do not reap in step.
    const delay = settings.reaperIntervalMs * (0.8 + 0.4 * Math.random());
    // A pass logs its own failures; nothing here may end the process.
    timer = setTimeout(
      () =>
        void tick()
          .catch(() => undefined)
          .finally(schedule),
      delay,
    );
    timer.unref();
  };
  schedule();
  return {
    runOnce,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([last, sweeping]);
    },
  };
}

/**
 * The reaper of a worker process (training-worker.ts), with its own fail-fast Redis
 * connection: a pass while Redis is away fails, and stopping never waits on Redis.
 */
export function startProcessReaper(
  config: Config & { redisUrl: string },
  db: Db,
  logger?: Logger,
  events?: JobEvents,
): Reaper {
  const connection = createRedis(config.redisUrl, 'queue');
  // A pass that hits a dead Redis logs its failure; the connection's events are not news.
  connection.on('error', () => undefined);
  const queue = createTrainingQueue(config.queueName, connection);
  const webhookQueue = createWebhookQueue(config.queueName, connection, config.webhooks);
  const deps: ReaperDeps = {
    jobs: new TrainingJobsRepository(db),
    models: new ModelsRepository(db),
    embeddings: new EmbeddingCacheRepository(db),
    webhookLog: { deliveries: new WebhooksRepository(db), days: config.webhooks.logDays },
    webhooks: new WebhooksService(
      new WebhooksRepository(db),
      webhookQueue,
      config.webhooks,
      logger,
    ),
    queue,
    store: instrumentStore(artifactStoreFor(config.storage)),
    uploadTmpDir: join(config.dataDir, 'tmp'),
    ...(logger ? { logger } : {}),
    ...(events ? { events } : {}),
  };
  const { reaperIntervalMs, orphanAgeMs } = config.recovery;
  const reaper = startReaper(deps, {
    ...config.recovery,
    sweepIntervalMs: Math.max(reaperIntervalMs, Math.min(orphanAgeMs / 4, 10 * 60_000)),
  });
  return {
    runOnce: () => reaper.runOnce(),
    async stop() {
      await reaper.stop();
      await queue.close();
      await webhookQueue.close();
      connection.disconnect();
    },
  };
}

async function reap(
  deps: ReaperDeps,
  settings: ReaperSettings,
  parts: { jobs: boolean; files: boolean },
): Promise<ReaperReport> {
  const log = deps.log ?? ((line: string) => (deps.logger ?? defaultLogger()).info(line));
  const report: ReaperReport = {
    requeued: 0,
    restarted: 0,
    failed: 0,
    cancelled: 0,
    removed: {
      uploads: 0,
      unfinishedWrites: 0,
      modelFolders: 0,
      checkpointFolders: 0,
      datasetFolders: 0,
      embeddingObjects: 0,
    },
    prunedDeliveries: 0,
    requeuedDeliveries: 0,
    redispatchedDeliveries: 0,
    errors: 0,
  };
  const guarded: Guarded = async (what, step) => {
    try {
      return await step();
    } catch (error) {
      report.errors++;
      log(
        `graft reaper: ${what} failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      return undefined;
    }
  };
  if (parts.jobs)
    await guarded('repairing lost jobs', () => repairLostJobs(deps, settings, report, guarded));
  const { webhooks } = deps;
  if (parts.jobs && webhooks) {
    const now = Date.now();
    report.requeuedDeliveries =
      (await guarded('queueing lost webhook deliveries again', () =>
        webhooks.requeueLost(new Date(now - DELIVERY_GRACE_MS), PAGE),
      )) ?? 0;
    report.redispatchedDeliveries =
      (await guarded("dispatching finished jobs' final events to webhooks", () =>
        webhooks.redispatchFinalEvents(
          {
            since: new Date(now - FINAL_EVENTS_SINCE_MS),
            before: new Date(now - FINAL_EVENTS_GRACE_MS),
          },
          FINAL_EVENTS_PAGE,
        ),
      )) ?? 0;
  }
  // After the jobs: a job failed or cancelled above has its checkpoints removed in this pass.
  if (parts.files) {
    report.removed = await sweepOrphans(deps, settings.orphanAgeMs, guarded);
    const { webhookLog } = deps;
    if (webhookLog) {
      const before = new Date(Date.now() - webhookLog.days * 86_400_000);
      report.prunedDeliveries =
        (await guarded('pruning the webhook delivery log', () =>
          webhookLog.deliveries.pruneDeliveries(before),
        )) ?? 0;
    }
  }
  const line = summary(report);
  if (line) log(`graft reaper: ${line}`);
  return report;
}

async function repairLostJobs(
  deps: ReaperDeps,
  settings: ReaperSettings,
  report: ReaperReport,
  guarded: Guarded,
): Promise<void> {
  const now = Date.now();
  const cutoffs = {
    queuedBefore: new Date(now - (settings.queuedGraceMs ?? QUEUED_GRACE_MS)),
    // By then a dead worker's lock has lapsed and BullMQ's stalled check has had its turn;
    // a live run writes its progress every second or so.
    runningBefore: new Date(now - settings.lockMs - settings.stalledIntervalMs),
  };
  let after: string | undefined;
  for (;;) {
    const page = await deps.jobs.stuckCandidates(cutoffs, {
      ...(after ? { after } : {}),
      take: PAGE,
    });
    // One round trip: ioredis pipelines the calls made together.
    const states = await Promise.all(page.map((job) => deps.queue.getJobState(job.id)));
    for (const [i, job] of page.entries()) {
      const state = states[i] ?? 'unknown';
      if (LIVE.has(state)) continue;
      await guarded(`repairing job ${job.id}`, () => repair(deps, settings, job, state, report));
    }
    if (page.length < PAGE) return;
    after = page[page.length - 1]?.id;
  }
}

/** A job nothing will deliver: enqueued again, or ended when it must not run again. */
async function repair(
  deps: ReaperDeps,
  settings: ReaperSettings,
  job: StuckJob,
  state: string,
  report: ReaperReport,
): Promise<void> {
  const { jobs, events } = deps;
  const log = jobLogger(deps.logger ?? defaultLogger(), { jobId: job.id, tenantId: job.tenantId });
  if (job.cancelRequested) {
    if (!(await jobs.cancelLost(job))) return;
    await events?.state(job.tenantId, job.id, { status: 'cancelled' });
    report.cancelled++;
    log.info({ queueState: state }, 'reaper: lost job cancelled as asked');
    await jobEnded(deps, job);
    return;
  }
  if (job.status === 'queued') {
    if (!(await jobs.takeForRequeue(job))) return;
    await enqueueAgain(deps, job, state);
    report.requeued++;
    log.info({ queueState: state }, 'reaper: queued job enqueued again');
    return;
  }
  // This run was lost, and `lostRuns` before it (not `attempt`: a draining worker's hand-back
  // takes an attempt too, and a long job may outlive many deploys). `maxStalls` restarts are
  // allowed, as for BullMQ's stalls (which count in `lostRuns` as well).
  const lost = job.lostRuns + 1;
  if (lost > settings.maxStalls) {
    if (!(await jobs.failLost(job, gaveUpMessage(lost)))) return;
    await events?.state(job.tenantId, job.id, { status: 'failed', error: gaveUpMessage(lost) });
    report.failed++;
    log.warn({ lostRuns: lost }, 'reaper: job failed after too many lost runs');
    await jobEnded(deps, job);
    return;
  }
  if (!(await jobs.requeueLost(job))) return;
  await events?.state(job.tenantId, job.id, { status: 'queued' });
  await enqueueAgain(deps, job, state);
  report.restarted++;
  log.info({ lostRuns: lost, queueState: state }, 'reaper: lost running job queued again');
}

/**
 * The row is queued (and fresh) already: if Redis fails here, a later pass finds it again.
 * A finished entry under the job's id would make the add a no-op, so it goes first.
 */
async function enqueueAgain(deps: ReaperDeps, job: StuckJob, state: string): Promise<void> {
  if (state === 'completed' || state === 'failed') await deps.queue.remove(job.id);
  await enqueueTraining(deps.queue, job.id, await deps.jobs.queueRank(job), {
    tenantId: job.tenantId,
  });
}

/**
 * What a worker does when a job ends (fair-share.ts): its tenant's line moves up, and deferred
 * jobs are offered again, since the job no longer holds a share. Never throws.
 */
function jobEnded(deps: ReaperDeps, job: StuckJob): Promise<void> {
  return afterJobEnded(deps.jobs, deps.queue, {
    data: { version: TRAINING_JOB_PAYLOAD_VERSION, jobId: job.id },
  });
}

function summary(report: ReaperReport): string {
  const { removed } = report;
  const parts: [number, string][] = [
    [report.requeued, 'queued jobs enqueued again'],
    [report.restarted, 'lost running jobs queued again'],
    [report.failed, 'jobs failed after too many lost runs'],
    [report.cancelled, 'lost jobs cancelled as asked'],
    [removed.uploads, 'upload temp files removed'],
    [removed.unfinishedWrites, 'unfinished writes removed'],
    [removed.modelFolders, 'model folders without a model removed'],
    [removed.checkpointFolders, 'checkpoints of ended jobs removed'],
    [removed.datasetFolders, 'dataset folders without a dataset removed'],
    [removed.embeddingObjects, 'cached embeddings without a row removed'],
    [report.prunedDeliveries, 'old webhook deliveries removed'],
    [report.requeuedDeliveries, 'lost webhook deliveries queued again'],
    [report.redispatchedDeliveries, "webhook deliveries of jobs' final events made"],
  ];
  return parts
    .filter(([count]) => count > 0)
    .map(([count, what]) => `${count} ${what}`)
    .join(', ');
}
