import { createHash, randomUUID } from 'node:crypto';
import { resolveTrainingSpec } from '../contracts/training-spec.js';
import type { DatasetsRepository } from '../db/datasets.repository.js';
import type { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import type { TransferRunOptions } from '../services/transfer-run.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { openCheckpoints } from '../storage/training-checkpoints.js';
import { isSplitName, type LabelledExample } from '../training/dataset-split.js';
import type { EmbeddingCache, PhaseName, TrainingReport } from '../training/training-types.js';
import { defaultLogger, jobLogger, type Logger } from '../observability/logger.js';
import type { JobEvents } from '../services/job-events.js';
import { claimJob, type Claim } from './job-claim.js';
import { recordStopped, recordSucceeded, type ModelSlot } from './job-finish.js';
import type { EpochRecordView } from '../contracts/training-summary.js';
import { RunSuperseded, type RunOutcome } from './job-outcome.js';
import { ProgressRecorder } from './progress-recorder.js';
import type { LimitsFor } from './tenant-limits.js';
import { startWallClock } from './wall-time.js';

/** Trains on a job's examples: `runTransfer` in the worker, a stub in tests. */
export type Trainer = (
  run: Required<Omit<TransferRunOptions, 'config'>>,
) => Promise<{ report: TrainingReport }>;

export interface TrainingJobDeps {
  jobs: TrainingJobsRepository;
  datasets: DatasetsRepository;
  store: ArtifactStore;
  train: Trainer;
  /** The tfjs backend this worker trains on; asked only once a job is about to train. */
  backendName: () => Promise<string>;
  /** How often progress is written and the cancel flag read. */
  progressIntervalMs: number;
  /** How long a finished run's final write waits for PostgreSQL (job-finish.ts; 30 s). */
  databaseRetryMs?: number;
  /** The tenant's running cap and wall-time limit. */
  limitsFor: LimitsFor;
  /** Where the run logs, bound to the job by its delivery (jobId, tenantId, requestId). */
  logger?: Logger;
  /** Where state changes and progress are told (GET /v1/jobs/:id/events); none without. */
  events?: JobEvents;
  /** Told the report once training has one (the processor sends its timings to its worker). */
  onTrained?: (report: TrainingReport) => void;
  /**
   * The tenant's embedding cache for the base with this digest, telling `warn` what failed;
   * without it (or when it gives none) nothing is cached across jobs.
   */
  embeddings?: (
    tenantId: string,
    baseDigest: string,
    warn: (message: string, error: unknown) => void,
  ) => EmbeddingCache | undefined;
}

type DatasetImageRow = Awaited<ReturnType<DatasetsRepository['images']>>[number];

const toExample = (image: DatasetImageRow): LabelledExample => ({
  key: image.storageKey,
  label: image.label,
  ...(isSplitName(image.split) ? { split: image.split } : {}),
  ...(image.contentHash ? { contentHash: image.contentHash } : {}),
});

function abortLinkedTo(signal: AbortSignal | undefined): AbortController {
  const controller = new AbortController();
  // A drain may have begun while the job was being claimed.
  if (signal?.aborted) controller.abort(signal.reason);
  else signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  return controller;
}

/**
 * Runs one delivered training job: claims the row (or defers it), trains, and records the
 * model or why there is none. Progress goes to Postgres, throttled; the persistent cancel flag
 * is read at the same pace, and it and the wall-time limit abort training within a batch.
 */
export async function runTrainingJob(
  deps: TrainingJobDeps,
  jobId: string,
  signal?: AbortSignal,
): Promise<RunOutcome> {
  const claim = await claimJob(deps, jobId);
  const base = jobLogger(deps.logger ?? defaultLogger(), { jobId });
  if ('outcome' in claim) {
    const ended = claim.outcome === 'failed' || claim.outcome === 'cancelled';
    base[ended ? 'info' : 'debug']({ outcome: claim.outcome }, 'training not started');
    return claim.outcome;
  }
  const log = jobLogger(base, { tenantId: claim.job.tenantId });
  const { attempt } = claim.job;
  log.info({ attempt, datasetId: claim.job.datasetId }, 'training started');
  const outcome = await trainClaimed({ ...deps, logger: log }, claim, signal);
  log.info({ attempt, outcome }, 'training ended');
  return outcome;
}

/**
 * How long a finished run waits for its progress events to be told before it records its
 * result: a slow or absent Redis must not hold up the job's end (its events are dropped).
 */
const EVENTS_WAIT_MS = 5000;

/** Trains a claimed job and records how it ended. */
async function trainClaimed(
  deps: TrainingJobDeps & { logger: Logger },
  claim: Extract<Claim, { job: unknown }>,
  signal: AbortSignal | undefined,
): Promise<RunOutcome> {
  const { job } = claim;
  const jobId = job.id;
  const controller = abortLinkedTo(signal);
  const stopClock = startWallClock(controller, claim.limits);
  const modelId = randomUUID();
  const slot: ModelSlot = { modelId, artifactKey: `models/${modelId}` };
  // Progress shown never goes back, whether or not this run finds a checkpoint to continue from.
  const progress = new ProgressRecorder(deps.jobs, jobId, {
    attempt: job.attempt,
    intervalMs: deps.progressIntervalMs,
    onCancelRequested: () => controller.abort(new Error('cancelled by request')),
    onSuperseded: () => controller.abort(new RunSuperseded()),
    floor: { progress: job.progress, phase: job.phase, epoch: job.epoch, epochs: job.epochs },
    ...(deps.events ? { publish: deps.events.publish.bind(deps.events, job.tenantId) } : {}),
  });
  let noted: Promise<void> = Promise.resolve();
  try {
    const examples = (await deps.datasets.images(job.datasetId)).map(toExample);
    const checkpoints = await openCheckpoints({
      store: deps.store,
      jobId,
      attempt: job.attempt,
      fingerprint: fingerprintOf(job.spec, examples),
      onSaveError: (error) =>
        deps.logger.warn({ error: String(error) }, 'a checkpoint was not saved'),
    });
    // Recorded when the core has checked that a checkpoint fits, not when one is found.
    checkpoints.restored = (point) => {
      if (point.stage !== 'features') progress.keep(keptHistory(job.history, point));
      const resume = {
        attempt: job.attempt,
        fromAttempt: checkpoints.resumed?.fromAttempt ?? job.attempt - 1,
        stage: point.stage,
        epoch: point.stage === 'features' ? null : point.epoch,
        at: new Date().toISOString(),
      };
      noted = noted
        .then(() => deps.jobs.recordResume(jobId, job.attempt, resume))
        .catch(() => undefined);
    };
    const { report } = await deps.train({
      spec: resolveTrainingSpec(job.spec),
      examples,
      readImage: (key) => deps.store.get(key),
      signal: controller.signal,
      onProgress: progress.record,
      writeArtifact: (name, data) => deps.store.put(`${slot.artifactKey}/${name}`, data),
      checkpoints,
      embeddingsFor: (digest) =>
        deps.embeddings?.(job.tenantId, digest, (message, error) =>
          deps.logger.warn({ error: String(error) }, message),
        ),
      // With the job's id and tenant, like every line of its run.
      warn: (message) => deps.logger.warn(message),
    });
    deps.onTrained?.(report);
    await Promise.all([progress.settled(EVENTS_WAIT_MS), noted]);
    return await recordSucceeded(deps, job, slot, { report, history: progress.history });
  } catch (error) {
    // A write still in flight may be the one that saw the cancel flag.
    await Promise.all([progress.settled(EVENTS_WAIT_MS), noted]);
    const { aborted } = controller.signal;
    const reason: unknown = controller.signal.reason;
    return recordStopped(deps, job, slot, { error, aborted, reason });
  } finally {
    stopClock();
  }
}

/** Bumped whenever what a checkpoint holds or means changes: older ones are then ignored. */
const CHECKPOINT_FORMAT = 1;

/** What the job trains on: a checkpoint of anything else (an edited spec, other images) is not used. */
function fingerprintOf(spec: unknown, examples: readonly LabelledExample[]): string {
  const hash = createHash('sha256');
  hash.update(`graft-checkpoint/${CHECKPOINT_FORMAT}\n`);
  hash.update(JSON.stringify(spec));
  const rows = examples.map(
    (e) => `${e.key}\t${e.label}\t${e.split ?? ''}\t${e.contentHash ?? ''}`,
  );
  for (const row of rows.sort()) hash.update(row).update('\n');
  return hash.digest('hex');
}

/** The epochs a resumed run keeps on show: those of the phase its checkpoint holds, up to it. */
function keptHistory(
  stored: unknown,
  point: { stage: PhaseName; epoch: number },
): EpochRecordView[] {
  if (!Array.isArray(stored)) return [];
  return (stored as EpochRecordView[]).filter(
    (r) => r.phase === point.stage && r.epoch <= point.epoch,
  );
}
