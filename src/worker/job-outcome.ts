/**
 * What the sandboxed processor hands back to BullMQ as the job's return value. The row in
 * Postgres holds the job's real state; 'skipped' means this delivery had nothing to do.
 */
export type JobOutcome = 'succeeded' | 'failed' | 'cancelled' | 'skipped';
