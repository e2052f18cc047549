import { DelayedError, UnrecoverableError, WaitingError } from 'bullmq';
import { isTrainingJobPayload } from '../contracts/training-job.js';
import { defaultLogger, jobLogger } from '../observability/logger.js';
import { DEFER_POLICY, deferralDelay, type DeferPolicy } from './fair-share.js';
import type { JobOutcome } from './job-outcome.js';
import { runTrainingJob, type TrainingJobDeps } from './run-training-job.js';

/** What a delivery needs of BullMQ's job: a `SandboxedJob` in the worker, a `Job` in tests. */
export interface TrainingDelivery {
  data: unknown;
  /** How often BullMQ has handed this job to a worker, deferrals included. */
  attemptsStarted: number;
  moveToDelayed(timestamp: number, token?: string): Promise<void>;
  moveToWait(token?: string): Promise<unknown>;
}

/**
 * Handles one delivery of a training job: re-validates the payload (a bad one can never
 * succeed) and runs the job. A deferred job goes back to the queue as delayed and the
 * processor throws BullMQ's `DelayedError`: not a failure, and no attempt is spent. A job
 * handed back by a draining worker goes back to waiting at once (`WaitingError`), for the next
 * worker to continue from its checkpoints.
 */
export async function deliverTrainingJob(
  deps: TrainingJobDeps,
  job: TrainingDelivery,
  token: string | undefined,
  signal?: AbortSignal,
  defer: DeferPolicy = DEFER_POLICY,
): Promise<JobOutcome> {
  if (!isTrainingJobPayload(job.data)) {
    throw new UnrecoverableError(`invalid training job payload: ${JSON.stringify(job.data)}`);
  }
  // Every line the run logs carries the job, its tenant and the request that queued it.
  const { jobId, tenantId, requestId } = job.data;
  const logger = jobLogger(deps.logger ?? defaultLogger(), { jobId, tenantId, requestId });
  const outcome = await runTrainingJob({ ...deps, logger }, jobId, signal);
  if (outcome === 'handed-back') {
    await job.moveToWait(token);
    throw new WaitingError(`job ${job.data.jobId} handed back: its worker is shutting down`);
  }
  if (outcome !== 'deferred') return outcome;
  await job.moveToDelayed(Date.now() + deferralDelay(job.attemptsStarted, defer), token);
  throw new DelayedError(`job ${job.data.jobId} deferred: its tenant has its share of workers`);
}
