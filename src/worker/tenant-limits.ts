import { effectiveQuotas, type QuotaLimits, type QuotaOverrides } from '../contracts/quotas.js';

/** What the worker enforces on one tenant's jobs. */
export interface TenantLimits {
  /** Most of its jobs that may run at once, even with nobody else waiting; unset: no cap. */
  maxRunning?: number;
  /** How long one of its jobs may run before it is stopped and fails. */
  maxSeconds: number;
  /** Where `maxSeconds` comes from, named in the error of a job it stops. */
  maxSecondsSource: string;
}

/** Looks a tenant's limits up (fair-share.ts, wall-time.ts). */
export type LimitsFor = (tenantId: string) => Promise<TenantLimits>;

/**
 * The tenant's quotas as the worker enforces them: `concurrentJobs` caps its running jobs and
 * `wallSeconds` each job's run; its own values (stored on its row) win over the defaults
 * (GRAFT_QUOTA_CONCURRENT_JOBS, GRAFT_QUOTA_WALL_SECONDS).
 */
export function limitsFromQuotas(
  defaults: QuotaLimits,
  overridesOf: (tenantId: string) => Promise<QuotaOverrides>,
): LimitsFor {
  return async (tenantId) => {
    const own = await overridesOf(tenantId);
    const limits = effectiveQuotas(defaults, own);
    return {
      maxRunning: limits.concurrentJobs,
      maxSeconds: limits.wallSeconds,
      maxSecondsSource:
        own.wallSeconds === undefined
          ? 'GRAFT_QUOTA_WALL_SECONDS'
          : 'its tenant’s wallSeconds quota',
    };
  };
}
