import type { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import { mayStart } from './fair-share.js';
import type { RunOutcome } from './job-outcome.js';
import type { LimitsFor, TenantLimits } from './tenant-limits.js';

type JobRow = NonNullable<Awaited<ReturnType<TrainingJobsRepository['findById']>>>;

/** A job this delivery now owns: running on this worker, its dataset still there. */
export type ClaimedJob = JobRow & { datasetId: string };

export type Claim = { job: ClaimedJob; limits: TenantLimits } | { outcome: RunOutcome };

export interface ClaimDeps {
  jobs: TrainingJobsRepository;
  backendName: () => Promise<string>;
  limitsFor: LimitsFor;
}

const DATASET_DELETED = 'its dataset was deleted before training started';

/**
 * Takes a delivered job for this worker, or says why there is nothing to train now. A queued
 * job starts if its tenant may run another one (fair-share.ts), else it is deferred; a
 * `running` one is a redelivery after its worker died and restarts from scratch. The backend
 * is only chosen for a job that may train: loading it can take seconds (once per process).
 */
export async function claimJob(deps: ClaimDeps, jobId: string): Promise<Claim> {
  const { jobs } = deps;
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
  if (row.status !== 'queued' && row.status !== 'running') return { outcome: 'skipped' };
  const backend = await deps.backendName();
  const claimed =
    row.status === 'queued'
      ? await jobs.startIf(jobId, backend, (load) => mayStart(row.tenantId, load, deps.limitsFor))
      : (await jobs.resumeStalled(jobId, backend)) && 'started';
  if (claimed === 'deferred') return { outcome: 'deferred' };
  if (claimed !== 'started') return { outcome: 'skipped' };
  return { job: { ...row, datasetId }, limits: await deps.limitsFor(row.tenantId) };
}
