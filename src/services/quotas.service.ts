import { RATE_CLASSES, type RateLimits } from '../config/config.js';
import {
  QUOTA_NAMES,
  type QuotaBreach,
  type QuotaLimits,
  type QuotaName,
} from '../contracts/quotas.js';
import type { UsageView } from '../contracts/tenant-views.js';
import type { TenantsRepository } from '../db/tenants.repository.js';
import { DomainError } from './domain-error.js';
import type { KeysService } from './keys.service.js';

/** What the /v1/keys and /v1/usage routes call (part of the API's services). */
export interface TenantServices {
  apiKeys: KeysService;
  quotas: QuotasService;
}

/**
 * The status a breach answers with. 403: a stock limit (what the tenant holds) that only
 * deleting something or a higher limit lifts. 413: a dataset with more images than allowed.
 * 429: too many jobs waiting; it passes as jobs finish. 422: a job spec asking for more than a
 * job may take. (concurrentJobs and wallSeconds are enforced by the workers, not at the API.)
 */
export const QUOTA_STATUS: Record<QuotaName, number> = {
  datasets: 403,
  storedBytes: 403,
  models: 403,
  imagesPerDataset: 413,
  queuedJobs: 429,
  concurrentJobs: 429,
  epochsPerPhase: 422,
  wallSeconds: 422,
};

const WHAT: Record<QuotaName, (n: number) => string> = {
  datasets: (n) => `${n} dataset(s)`,
  storedBytes: (n) => `${n} bytes of images`,
  models: (n) => `${n} model(s), counting those queued and running jobs will make`,
  imagesPerDataset: (n) => `at least ${n} images in one dataset`,
  queuedJobs: (n) => `${n} queued job(s)`,
  concurrentJobs: (n) => `${n} running job(s)`,
  epochsPerPhase: (n) => `${n} epochs in one phase`,
  wallSeconds: (n) => `${n} seconds for one job`,
};

/** problem+json `quota_exceeded` that names the quota, its limit, the use and the request. */
export function quotaExceeded(breach: QuotaBreach): DomainError {
  const { quota, limit, used, requested } = breach;
  const status = QUOTA_STATUS[quota];
  const hint =
    status === 429
      ? 'wait for some to finish or cancel one'
      : status === 403
        ? 'delete something or ask for a higher limit'
        : 'ask for less';
  const detail =
    status === 403 || status === 429
      ? `quota ${quota}: you use ${WHAT[quota](used)} and asked for ${requested} more; the limit is ${limit} (${hint})`
      : `quota ${quota}: this asks for ${WHAT[quota](used)}; the limit is ${limit} (${hint})`;
  return new DomainError(status, 'quota_exceeded', detail, { quota, limit, used, requested });
}

/** A tenant's limits (defaults or its own) and what it uses of them. */
export class QuotasService {
  /** `rateLimits`: the server's defaults, undefined when rate limits are off. */
  constructor(
    private readonly tenants: TenantsRepository,
    private readonly rateLimits: RateLimits | undefined,
  ) {}

  limits(tenantId: string): Promise<QuotaLimits> {
    return this.tenants.limits(tenantId);
  }

  async usage(tenantId: string, tenantName: string): Promise<UsageView> {
    const [limits, overrides, usage, rates] = await Promise.all([
      this.tenants.limits(tenantId),
      this.tenants.overrides(tenantId),
      this.tenants.usage(tenantId),
      this.tenants.rateLimits(tenantId),
    ]);
    // Limits on one dataset or one job have no running use.
    const used: Record<QuotaName, number | null> = {
      datasets: usage.datasets,
      storedBytes: usage.storedBytes,
      imagesPerDataset: null,
      concurrentJobs: usage.runningJobs,
      queuedJobs: usage.queuedJobs,
      epochsPerPhase: null,
      wallSeconds: null,
      models: usage.models + usage.queuedJobs + usage.runningJobs,
    };
    const quotas = Object.fromEntries(
      QUOTA_NAMES.map((name) => [
        name,
        {
          limit: limits[name],
          used: used[name],
          own: overrides[name] !== undefined,
        },
      ]),
    ) as UsageView['quotas'];
    const defaults = this.rateLimits;
    const rateLimits = defaults
      ? (Object.fromEntries(
          RATE_CLASSES.map((name) => {
            const { max, windowMs } = { ...defaults[name], ...rates[name] };
            return [name, { max, windowSeconds: windowMs / 1000, own: rates[name] !== undefined }];
          }),
        ) as NonNullable<UsageView['rateLimits']>)
      : null;
    return { tenant: tenantName, quotas, rateLimits };
  }
}
