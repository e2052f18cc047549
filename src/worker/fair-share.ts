import { isTrainingJobPayload } from '../contracts/training-job.js';
import type { TenantLoad, TrainingJobsRepository } from '../db/training-jobs.repository.js';
import { promoteDeferred, rerank, type TrainingQueue } from '../queue/training-queue.js';
import type { LimitsFor } from './tenant-limits.js';

/*
 * Fair dispatch across tenants, on BullMQ's open-source features only. PostgreSQL decides;
 * the queue's order is a hint that makes the right job usually come first.
 *
 * 1. Turns. A job is queued with BullMQ's priority (lower runs first) set to its rank in its
 *    tenant's line: the tenant's running jobs plus its queued jobs up to this one. Tenant A's
 *    50 jobs get 1..50; tenant B's first job gets 1 and runs before A's second. When a job
 *    ends, its tenant's queued jobs are re-ranked (one fewer running moves them up).
 * 2. Shares. When a worker takes a job, the claim (job-claim.ts) starts it only if `mayStart`
 *    agrees, under a lock every claim takes: a tenant at its own running cap waits, and so
 *    does a tenant that runs more jobs than another tenant that has jobs waiting. Workers are
 *    shared out evenly among the tenants with work; a tenant alone may use them all.
 * 3. Deferral. A job that may not start goes back to the queue as delayed (BullMQ's
 *    `moveToDelayed` + `DelayedError`): not a failure, no attempt spent, the row stays queued.
 *    The delay doubles with each deferral up to a minute, so a blocked tenant's backlog is not
 *    a busy loop; when any job ends, deferred jobs are offered again at once.
 */

/** Whether `tenantId` may start one more job now, given every tenant's load. */
export async function mayStart(
  tenantId: string,
  load: TenantLoad,
  limitsFor: LimitsFor,
): Promise<boolean> {
  const running = load.running.get(tenantId) ?? 0;
  const own = (await limitsFor(tenantId)).maxRunning;
  if (own !== undefined && running >= own) return false;
  for (const rival of load.waiting) {
    const theirs = load.running.get(rival) ?? 0;
    if (rival === tenantId || theirs >= running) continue;
    // A rival held back by its own cap cannot use the worker: it does not count.
    const cap = (await limitsFor(rival)).maxRunning;
    if (cap === undefined || theirs < cap) return false;
  }
  return true;
}

export interface DeferPolicy {
  /** Delay after the first deferral; each further one doubles it. */
  firstMs: number;
  maxMs: number;
}

export const DEFER_POLICY: DeferPolicy = { firstMs: 1000, maxMs: 60_000 };

/** The delay of a job's next deferral, from how often BullMQ has handed it to a worker. */
export function deferralDelay(attemptsStarted: number, policy: DeferPolicy): number {
  const deferrals = Math.max(0, attemptsStarted - 1);
  return Math.min(policy.maxMs, policy.firstMs * 2 ** Math.min(deferrals, 30));
}

/** How many of a tenant's queued jobs are re-ranked when one of its jobs ends. */
const RERANK_WINDOW = 100;

/**
 * After a job ends (BullMQ's `completed` or `failed`): its tenant's line moves up, and every
 * deferred job is offered again, since a worker is free. Never throws: an event has no caller.
 */
export async function afterJobEnded(
  jobs: TrainingJobsRepository,
  queue: TrainingQueue,
  delivered: { data: unknown } | undefined,
): Promise<void> {
  try {
    if (delivered && isTrainingJobPayload(delivered.data)) {
      const row = await jobs.findById(delivered.data.jobId);
      if (row) await rerank(queue, await jobs.queueRanks(row.tenantId, RERANK_WINDOW));
    }
    await promoteDeferred(queue);
  } catch {
    // A missed re-rank or promotion only delays a job: deferred ones come back on their own.
  }
}
