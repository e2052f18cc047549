/*
 * What a tenant may hold and run. Defaults come from the config (GRAFT_QUOTA_*); a tenant's
 * own limits, set with `npm run tenants -- set-quota`, are stored on its row and win.
 */

/** Stock quotas count what a tenant holds; the others bound one dataset, one job. */
export const QUOTA_NAMES = [
  'datasets',
  'storedBytes',
  'imagesPerDataset',
  'concurrentJobs',
  'queuedJobs',
  'epochsPerPhase',
  'wallSeconds',
  'models',
] as const;
export type QuotaName = (typeof QUOTA_NAMES)[number];
export type QuotaLimits = Record<QuotaName, number>;

export function isQuotaName(value: string): value is QuotaName {
  return (QUOTA_NAMES as readonly string[]).includes(value);
}

/** A tenant's own limits: any subset of the quotas. */
export type QuotaOverrides = Partial<QuotaLimits>;

/** The limits that apply to a tenant: its own where it has them, else the defaults. */
export function effectiveQuotas(defaults: QuotaLimits, overrides: QuotaOverrides): QuotaLimits {
  const limits = { ...defaults };
  for (const name of QUOTA_NAMES) {
    const own = overrides[name];
    if (typeof own === 'number' && Number.isInteger(own) && own > 0) limits[name] = own;
  }
  return limits;
}

/** One quota a request would break: which, its limit, what is used, and what was asked. */
export interface QuotaBreach {
  quota: QuotaName;
  limit: number;
  used: number;
  requested: number;
}
