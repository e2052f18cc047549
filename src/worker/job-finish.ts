import { isTrainingJobPayload } from '../contracts/training-job.js';
import type { EpochRecordView, TrainingSummary } from '../contracts/training-summary.js';
import type { Prisma } from '../db/generated/client.js';
import type { NewModel, TrainingJobsRepository } from '../db/training-jobs.repository.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { removeCheckpoints } from '../storage/training-checkpoints.js';
import { reportSummary } from '../training/report-summary.js';
import type { TrainingReport } from '../training/training-types.js';
import type { ClaimedJob } from './job-claim.js';
import { jobError, logInternal } from './job-error.js';
import { isDatabaseUnavailable } from '../db/database-errors.js';
import { defaultLogger, jobLogger, type Logger } from '../observability/logger.js';
import type { JobEvents, StateChange } from '../services/job-events.js';
import {
  DatabaseLost,
  DRAIN_REASON,
  RunSuperseded,
  type JobOutcome,
  type RunOutcome,
} from './job-outcome.js';
import { WallTimeExceeded } from './wall-time.js';

export interface FinishDeps {
  jobs: TrainingJobsRepository;
  store: ArtifactStore;
  /**
   * How long the final write of a finished training waits for a PostgreSQL that went away
   * (30 s when absent); past it the job is left to the reaper, which runs it again from its
   * checkpoints.
   */
  databaseRetryMs?: number;
  /** Where a failure's internals are logged, bound to the job; the default logger without. */
  logger?: Logger;
  /** Where state changes are told, once written; none without. */
  events?: JobEvents;
}

/** Where a run's artifacts go, under the id its model row will have. */
export interface ModelSlot {
  modelId: string;
  artifactKey: string;
}

const json = (value: unknown) => value as Prisma.InputJsonValue;

function newModel(slot: ModelSlot, report: TrainingReport, metrics: TrainingSummary): NewModel {
  return {
    id: slot.modelId,
    baseModel: report.base.id,
    labels: report.labels,
    inputSize: report.base.preprocessing.size,
    preprocessing: json(report.base.preprocessing),
    metrics: json(metrics),
    kept: report.kept,
    keptReason: report.keptReason,
    artifactKey: slot.artifactKey,
  };
}

/** A job that ended needs its checkpoints no more; a failed removal is the reaper's to sweep. */
async function dropCheckpoints(deps: FinishDeps, jobId: string): Promise<void> {
  await removeCheckpoints(deps.store, jobId).catch(() => undefined);
}

/**
 * Runs `write`, again and again while PostgreSQL is unreachable (every 0.5 s, doubling to 4 s)
 * for up to `forMs`: a restart or fail-over of a few seconds must not cost a finished training.
 */
async function whileDatabaseAway<T>(write: () => Promise<T>, forMs: number): Promise<T> {
  const until = Date.now() + forMs;
  for (let wait = 500; ; wait = Math.min(wait * 2, 4000)) {
    try {
      return await write();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || Date.now() + wait > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/**
 * Records a finished training: the job succeeds and its model row appears, in one guarded
 * transaction, if this run still owns the job. A cancel that arrived after the last check wins
 * over the finished training.
 */
export async function recordSucceeded(
  deps: FinishDeps,
  job: ClaimedJob,
  slot: ModelSlot,
  trained: { report: TrainingReport; history: readonly EpochRecordView[] },
): Promise<JobOutcome> {
  const metrics = reportSummary(trained.report);
  const model = newModel(slot, trained.report, metrics);
  const history = json(trained.history);
  const succeeded = await whileDatabaseAway(
    () => deps.jobs.succeed(job, model, json(metrics), history),
    deps.databaseRetryMs ?? 30_000,
  );
  if (succeeded) {
    await deps.events?.succeeded(job.tenantId, job.id, slot.modelId, metrics);
    await dropCheckpoints(deps, job.id);
    return 'succeeded';
  }
  await deps.store.remove(slot.artifactKey);
  if (await deps.jobs.cancel(job.id, job.attempt)) {
    await deps.events?.state(job.tenantId, job.id, { status: 'cancelled' });
    await dropCheckpoints(deps, job.id);
    return 'cancelled';
  }
  return 'skipped';
}

/**
 * Ends a run that threw: its partial artifacts go. A run another one took over writes nothing
 * more. A drain hands the job back to the queue (its checkpoints stay for the next worker). An
 * abort is a cancel, unless the wall-time limit stopped it (`reason`); that and anything else
 * is a failure.
 */
export async function recordStopped(
  deps: FinishDeps,
  job: Pick<ClaimedJob, 'id' | 'attempt' | 'tenantId'>,
  slot: ModelSlot,
  stop: { error: unknown; aborted: boolean; reason?: unknown },
): Promise<RunOutcome> {
  await deps.store.remove(slot.artifactKey).catch(() => undefined);
  if (stop.aborted && stop.reason instanceof RunSuperseded) return 'skipped';
  // Nothing can be written: the job stays running, checkpoints kept, for the reaper.
  if (isDatabaseUnavailable(stop.error)) throw new DatabaseLost(stop.error);
  const tell = (change: StateChange) => deps.events?.state(job.tenantId, job.id, change);
  if (stop.aborted && stop.reason === DRAIN_REASON) {
    if (await deps.jobs.handBack(job.id, job.attempt)) {
      await tell({ status: 'queued' });
      return 'handed-back';
    }
    // Not handed back: a cancel was asked for meanwhile (or the run lost the job).
    if (!(await deps.jobs.cancel(job.id, job.attempt))) return 'skipped';
    await tell({ status: 'cancelled' });
    await dropCheckpoints(deps, job.id);
    return 'cancelled';
  }
  let ended: StateChange | undefined;
  let outcome: JobOutcome;
  if (stop.aborted && !(stop.reason instanceof WallTimeExceeded)) {
    if (await deps.jobs.cancel(job.id, job.attempt)) ended = { status: 'cancelled' };
    outcome = 'cancelled';
  } else {
    const error = jobError(stop.aborted ? stop.reason : stop.error);
    logInternal(jobLogger(deps.logger ?? defaultLogger(), { jobId: job.id }), error);
    if (await deps.jobs.fail(job.id, error.message, job.attempt))
      ended = { status: 'failed', error: error.message };
    outcome = 'failed';
  }
  if (!ended) return 'skipped';
  await tell(ended);
  await dropCheckpoints(deps, job.id);
  return outcome;
}

/**
 * BullMQ's `failed` event: failures outside our code (the sandboxed child killed, out of
 * memory, stalled too often) never reach the handler, so the row would say "running" forever.
 * Returns whether a row was marked failed; a finished job is left as it is.
 */
export async function recordWorkerFailure(
  jobs: TrainingJobsRepository,
  job: { data: unknown } | undefined,
  error: Error,
  logger: Logger = defaultLogger(),
  events?: JobEvents,
): Promise<boolean> {
  if (!job || !isTrainingJobPayload(job.data)) return false;
  // The run lost PostgreSQL: left running for the reaper, which queues it again.
  if (error.name === new DatabaseLost(undefined).name) return false;
  const { jobId, tenantId, requestId } = job.data;
  const log = jobLogger(logger, { jobId, tenantId, requestId });
  const stored = jobError(error, 'the worker failed: ');
  log.warn({ error: error.message }, 'the worker failed this job');
  logInternal(log, stored);
  if (!(await jobs.fail(jobId, stored.message))) return false;
  // Older payloads lack the tenant: the row has it.
  const tenant = events && (tenantId ?? (await jobs.findById(jobId).catch(() => null))?.tenantId);
  if (tenant) await events.state(tenant, jobId, { status: 'failed', error: stored.message });
  return true;
}
