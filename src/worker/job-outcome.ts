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
