/**
 * What the sandboxed processor hands back to BullMQ as the job's return value. The row in
 * Postgres holds the job's real state; 'skipped' means this delivery had nothing to do.
 */
export type JobOutcome = 'succeeded' | 'failed' | 'cancelled' | 'skipped';

/**
 * What running a delivery decided: an outcome, 'deferred' when its tenant has had its share of
 * the workers (fair-share.ts), or 'handed-back' when its worker is draining: either way the
 * delivery goes back to the queue.
 */
export type RunOutcome = JobOutcome | 'deferred' | 'handed-back';

/**
 * The abort reason a draining worker gives its runs (BullMQ's `cancelAllJobs`): checkpoint,
 * give the job back to the queue, stop.
 */
export const DRAIN_REASON = 'graft:drain';

/** The abort reason of a run another run has taken the job from (its writes no longer land). */
export class RunSuperseded extends Error {
  override name = 'RunSuperseded';
  constructor() {
    super('another run took this job over');
  }
}

/**
 * What a run throws when PostgreSQL went away under it: nothing could be recorded, so the job
 * is left `running` with its checkpoints, for the reaper to queue again once the database is
 * back (BullMQ's `failed` handler knows it by its name, which survives the sandbox).
 */
export class DatabaseLost extends Error {
  override name = 'GraftDatabaseLost';
  constructor(cause: unknown) {
    super('the database became unreachable during the run; the job will be picked up again', {
      cause,
    });
  }
}
