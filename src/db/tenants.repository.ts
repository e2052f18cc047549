import {
  isRateClass,
  type RateClass,
  type RateLimit,
  type RateLimitOverrides,
} from '../config/config.js';
import {
  effectiveQuotas,
  isQuotaName,
  type QuotaBreach,
  type QuotaLimits,
  type QuotaName,
  type QuotaOverrides,
} from '../contracts/quotas.js';
import type { Prisma } from './generated/client.js';
import type { Db } from './prisma-client.js';

/** What counts against a tenant's stock quotas right now. */
export interface TenantUsage {
  datasets: number;
  storedBytes: number;
  queuedJobs: number;
  runningJobs: number;
  models: number;
}

/**
 * Serialises a tenant's quota-checked inserts until the transaction ends, so two requests
 * cannot both take the last slot. NO KEY UPDATE, not UPDATE: inserting a row that references
 * the tenant takes KEY SHARE on it, which this must not wait for (two uploads would deadlock).
 */
export async function lockTenant(tx: Prisma.TransactionClient, tenantId: string): Promise<void> {
  await tx.$queryRaw`SELECT "id" FROM "Tenant" WHERE "id" = ${tenantId}::uuid FOR NO KEY UPDATE`;
}

/** Thrown inside a transaction to roll it back; the repository returns the breach instead. */
export class QuotaBreachRollback extends Error {
  constructor(readonly breach: QuotaBreach) {
    super(`quota ${breach.quota} exceeded`);
  }
}

const breach = (over: Omit<QuotaBreach, 'requested'>): { breach: QuotaBreach } => ({
  breach: { ...over, requested: 1 },
});

const isPositiveInteger = (value: unknown): value is number =>
  typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

function overridesOf(json: Prisma.JsonValue): QuotaOverrides {
  const overrides: QuotaOverrides = {};
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    for (const [name, value] of Object.entries(json)) {
      if (isQuotaName(name) && isPositiveInteger(value)) overrides[name] = value;
    }
  }
  return overrides;
}

function rateLimitsOf(json: Prisma.JsonValue): RateLimitOverrides {
  const overrides: RateLimitOverrides = {};
  if (json && typeof json === 'object' && !Array.isArray(json)) {
    for (const [name, value] of Object.entries(json)) {
      if (!isRateClass(name) || !value || typeof value !== 'object' || Array.isArray(value))
        continue;
      const { max, windowMs } = value as Record<string, unknown>;
      if (isPositiveInteger(max) && isPositiveInteger(windowMs))
        overrides[name] = { max, windowMs };
    }
  }
  return overrides;
}

export async function usageOf(
  db: Prisma.TransactionClient,
  tenantId: string,
): Promise<TenantUsage> {
  const [datasets, bytes, queuedJobs, runningJobs, models] = await Promise.all([
    db.dataset.count({ where: { tenantId } }),
    db.dataset.aggregate({ where: { tenantId }, _sum: { sizeBytes: true } }),
    db.trainingJob.count({ where: { tenantId, status: 'queued' } }),
    db.trainingJob.count({ where: { tenantId, status: 'running' } }),
    db.model.count({ where: { tenantId } }),
  ]);
  return {
    datasets,
    storedBytes: Number(bytes._sum.sizeBytes ?? 0n),
    queuedJobs,
    runningJobs,
    models,
  };
}

/**
 * Tenants, their own limits and what they use. `limits` is what everyone enforcing a quota
 * reads (the worker too: `wallSeconds`, `concurrentJobs`); `defaults` come from the config.
 */
export class TenantsRepository {
  constructor(
    private readonly db: Db,
    private readonly defaults: QuotaLimits,
  ) {}

  /** Undefined if a tenant with that name exists already. */
  async create(name: string) {
    const existing = await this.findByName(name);
    if (existing) return undefined;
    return this.db.tenant.create({ data: { name } });
  }

  findByName(name: string) {
    return this.db.tenant.findUnique({ where: { name } });
  }

  list() {
    return this.db.tenant.findMany({
      orderBy: { name: 'asc' },
      include: { _count: { select: { apiKeys: { where: { revokedAt: null } } } } },
    });
  }

  /** The tenant's own limit for `quota`, or back to the default when `value` is null. */
  async setQuota(tenantId: string, quota: QuotaName, value: number | null): Promise<void> {
    // One statement: concurrent changes to different quotas of a tenant do not undo each other.
    if (value === null) {
      await this.db
        .$executeRaw`UPDATE "Tenant" SET "quotas" = "quotas" - ${quota}::text WHERE "id" = ${tenantId}::uuid`;
    } else {
      await this.db
        .$executeRaw`UPDATE "Tenant" SET "quotas" = "quotas" || jsonb_build_object(${quota}::text, ${value}::bigint) WHERE "id" = ${tenantId}::uuid`;
    }
  }

  async overrides(tenantId: string): Promise<QuotaOverrides> {
    const tenant = await this.db.tenant.findUnique({
      where: { id: tenantId },
      select: { quotas: true },
    });
    return overridesOf(tenant?.quotas ?? {});
  }

  /** The tenant's own rate limit for `rateClass`, or back to the default when `limit` is null. */
  async setRateLimit(
    tenantId: string,
    rateClass: RateClass,
    limit: RateLimit | null,
  ): Promise<void> {
    if (limit === null) {
      await this.db
        .$executeRaw`UPDATE "Tenant" SET "rateLimits" = "rateLimits" - ${rateClass}::text WHERE "id" = ${tenantId}::uuid`;
    } else {
      await this.db
        .$executeRaw`UPDATE "Tenant" SET "rateLimits" = "rateLimits" || jsonb_build_object(
        ${rateClass}::text, jsonb_build_object('max', ${limit.max}::bigint, 'windowMs', ${limit.windowMs}::bigint)
      ) WHERE "id" = ${tenantId}::uuid`;
    }
  }

  /** The rate limits the tenant has of its own (the API's `limitsFor`). */
  async rateLimits(tenantId: string): Promise<RateLimitOverrides> {
    const tenant = await this.db.tenant.findUnique({
      where: { id: tenantId },
      select: { rateLimits: true },
    });
    return rateLimitsOf(tenant?.rateLimits ?? {});
  }

  /** The limits that apply to the tenant: its own where set, else the defaults. */
  async limits(tenantId: string): Promise<QuotaLimits> {
    return effectiveQuotas(this.defaults, await this.overrides(tenantId));
  }

  usage(tenantId: string): Promise<TenantUsage> {
    return usageOf(this.db, tenantId);
  }

  /**
   * Inserts a queued job unless the tenant has `queuedJobs` waiting already, or its models
   * plus the jobs that will each make one reach `models`.
   */
  createJobWithinQuota(
    data: { tenantId: string; datasetId: string; spec: Prisma.InputJsonValue },
    limits: Pick<QuotaLimits, 'queuedJobs' | 'models'>,
  ) {
    return this.db.$transaction(async (tx) => {
      await lockTenant(tx, data.tenantId);
      const { tenantId } = data;
      const queued = await tx.trainingJob.count({ where: { tenantId, status: 'queued' } });
      if (queued >= limits.queuedJobs) {
        return breach({ quota: 'queuedJobs', limit: limits.queuedJobs, used: queued });
      }
      const running = await tx.trainingJob.count({ where: { tenantId, status: 'running' } });
      const models = (await tx.model.count({ where: { tenantId } })) + queued + running;
      if (models >= limits.models) {
        return breach({ quota: 'models', limit: limits.models, used: models });
      }
      return { job: await tx.trainingJob.create({ data }) };
    });
  }
}
