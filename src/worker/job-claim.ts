import type { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import type { JobEvents } from '../services/job-events.js';
import { mayStart } from './fair-share.js';
import type { RunOutcome } from './job-outcome.js';
import type { LimitsFor, TenantLimits } from './tenant-limits.js';

type JobRow = NonNullable<Awaited<ReturnType<TrainingJobsRepository['findById']>>>;

/**
 * A job this delivery now owns: running on this worker, its dataset still there. `attempt` is
 * this run's number: every write the run makes names it, so a superseded run writes nothing.
 */
export type ClaimedJob = JobRow & { datasetId: string; attempt: number };

export type Claim = { job: ClaimedJob; limits: TenantLimits } | { outcome: RunOutcome };

export interface ClaimDeps {
  jobs: TrainingJobsRepository;
  backendName: () => Promise<string>;
  limitsFor: LimitsFor;
  /** Where state changes are told; none without. */
  events?: JobEvents;
}

const DATASET_DELETED = 'its dataset was deleted before training started';

/**
 * Takes a delivered job for this worker, or says why there is nothing to train now. A queued
 * job starts if its tenant may run another one (fair-share.ts), else it is deferred; a
 * `running` one is a redelivery after its worker died, and continues from its checkpoints
 * under a new attempt number (the dead run's writes are fenced off). The backend
 * is only chosen for a job that may train: loading it can take seconds (once per process).
 */
export async function claimJob(deps: ClaimDeps, jobId: string): Promise<Claim> {
  const { jobs, events } = deps;
  const row = await jobs.findById(jobId);
  if (!row) return { outcome: 'skipped' };
  const { datasetId, tenantId } = row;
  if (!datasetId) {
    if (await jobs.fail(jobId, DATASET_DELETED))
      await events?.state(tenantId, jobId, { status: 'failed', error: DATASET_DELETED });
    return { outcome: 'failed' };
  }
  // A job flagged for cancelling whose worker died is finished here, not restarted.
  if (row.cancelRequested) {
    if (!(await jobs.cancel(jobId))) return { outcome: 'skipped' };
    await events?.state(tenantId, jobId, { status: 'cancelled' });
    return { outcome: 'cancelled' };
  }
  if (row.status !== 'queued' && row.status !== 'running') return { outcome: 'skipped' };
  const backend = await deps.backendName();
  let attempt: number | undefined;
  if (row.status === 'queued') {
    const started = await jobs.startIf(jobId, backend, (load) =>
      mayStart(row.tenantId, load, deps.limitsFor),
    );
    if (started.claim === 'deferred') return { outcome: 'deferred' };
    if (started.claim === 'started') {
      attempt = started.attempt;
      await events?.state(tenantId, jobId, { status: 'running' });
    }
  } else {
    attempt = await jobs.resumeStalled(jobId, backend);
  }
  if (attempt === undefined) return { outcome: 'skipped' };
  return { job: { ...row, datasetId, attempt }, limits: await deps.limitsFor(row.tenantId) };
}
