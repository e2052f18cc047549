import type { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import type { JobOutcome } from './job-outcome.js';

type JobRow = NonNullable<Awaited<ReturnType<TrainingJobsRepository['findById']>>>;

/** A job this delivery now owns: running on this worker, its dataset still there. */
export type ClaimedJob = JobRow & { datasetId: string };

export type Claim = { job: ClaimedJob } | { outcome: JobOutcome };

const DATASET_DELETED = 'its dataset was deleted before training started';

/**
 * Takes a delivered job for this worker, or says why there is nothing to train. A queued job
 * starts; a `running` one is a redelivery after its worker died and restarts from scratch.
 * The backend is only chosen for a job that will train: loading it can take seconds.
 */
export async function claimJob(
  jobs: TrainingJobsRepository,
  jobId: string,
  backendName: () => Promise<string>,
): Promise<Claim> {
  const row = await jobs.findById(jobId);
  if (!row) return { outcome: 'skipped' };
  const { datasetId } = row;
  if (!datasetId) {
    await jobs.fail(jobId, DATASET_DELETED);
    return { outcome: 'failed' };
  }
  // A job flagged for cancelling whose worker died is finished here, not restarted.
  if (row.cancelRequested) {
    return { outcome: (await jobs.cancel(jobId)) ? 'cancelled' : 'skipped' };
  }
  const backend = await backendName();
  const claimed =
    row.status === 'queued'
      ? await jobs.markRunning(jobId, backend)
      : row.status === 'running' && (await jobs.resumeStalled(jobId, backend));
  return claimed ? { job: { ...row, datasetId } } : { outcome: 'skipped' };
}
