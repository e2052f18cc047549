/**
 * What the sandboxed processor hands back to BullMQ as the job's return value. The row in
 * Postgres holds the job's real state; 'skipped' means this delivery had nothing to do.
 */
export type JobOutcome = 'succeeded' | 'failed' | 'cancelled' | 'skipped';

/**
 * What running a delivery decided: an outcome, or 'deferred' when its tenant has had its
 * share of the workers (fair-share.ts); the delivery then goes back to the queue for a while.
 */
export type RunOutcome = JobOutcome | 'deferred';
