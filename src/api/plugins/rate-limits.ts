import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Redis } from 'ioredis';
import type { RateClass, RateLimit, RateLimitOverrides, RateLimits } from '../../config/config.js';
import { DomainError } from '../../services/domain-error.js';

/** A tenant's own limits (stored with the tenant); undefined: the defaults. */
export type LimitsFor = (tenantId: string) => Promise<RateLimitOverrides | undefined>;

export interface RateLimitsOptions {
  /** Shared by every API replica, so a key's budget is one budget however many there are. */
  redis: Redis;
  limits: RateLimits;
  limitsFor?: LimitsFor;
}

/** Routes with a budget of their own; every other route draws on the key's default budget. */
const ROUTE_CLASSES: Record<string, RateClass> = {
  'POST /v1/datasets': 'uploads',
  'POST /v1/jobs': 'jobs',
  'POST /v1/models/:id/predict': 'predict',
  'GET /v1/datasets/:id/images/:imageId/thumbnail': 'thumbnails',
};

/** A tenant's overrides are read again after this long (changes apply within it). */
const OVERRIDES_TTL_MS = 10_000;
const OVERRIDES_MAX_TENANTS = 10_000;

/** `limitsFor` behind a short cache; a failing lookup means the defaults, not a failed request. */
function cachedOverrides(limitsFor: LimitsFor | undefined) {
  const cache = new Map<
    string,
    { until: number; value: Promise<RateLimitOverrides | undefined> }
  >();
  return (tenantId: string): Promise<RateLimitOverrides | undefined> => {
    if (!limitsFor) return Promise.resolve(undefined);
    const now = Date.now();
    const hit = cache.get(tenantId);
    if (hit && hit.until > now) return hit.value;
    if (cache.size >= OVERRIDES_MAX_TENANTS) cache.clear();
    const value = limitsFor(tenantId).catch(() => undefined);
    cache.set(tenantId, { until: now + OVERRIDES_TTL_MS, value });
    return value;
  };
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * Fixed-window rate limits in Redis, per tenant (per client address on routes without a key),
 * with stricter budgets for uploads, job creation and predict. Runs after the /v1 auth hook
 * (route hooks follow the instance's), before any body is read. 429 problem+json with
 * `Retry-After` and `RateLimit-*`; a Redis that does not answer lets requests through.
 */
export const rateLimits = fp(
  async (app: FastifyInstance, { redis, limits, limitsFor }: RateLimitsOptions) => {
    const overrides = cachedOverrides(limitsFor);
    const limitOf = async (request: FastifyRequest, rateClass: RateClass): Promise<RateLimit> => {
      const tenantId = (request.principal as typeof request.principal | null)?.tenantId;
      const own = tenantId ? (await overrides(tenantId))?.[rateClass] : undefined;
      return { ...limits[rateClass], ...own };
    };
    const budget = (rateClass: RateClass) => ({
      max: async (request: FastifyRequest) => (await limitOf(request, rateClass)).max,
      timeWindow: async (request: FastifyRequest) => (await limitOf(request, rateClass)).windowMs,
    });
    // Runs before @fastify/rate-limit's own onRoute hook, which reads `config.rateLimit`.
    app.addHook('onRoute', (route) => {
      const rateClass =
        typeof route.method === 'string'
          ? ROUTE_CLASSES[`${route.method} ${route.url}`]
          : undefined;
      if (rateClass && route.config?.rateLimit === undefined)
        route.config = { ...route.config, rateLimit: budget(rateClass) };
    });
    await app.register(rateLimit, {
      ...budget('default'),
      redis,
      nameSpace: 'graft:rate:',
      // One budget per tenant, shared by its keys: a tenant that makes itself more keys
      // (POST /v1/keys) gets no more requests.
      keyGenerator: (request) => {
        const principal = request.principal as typeof request.principal | null;
        return principal ? `tenant:${principal.tenantId}` : `ip:${request.ip}`;
      },
      enableDraftSpec: true,
      skipOnError: true,
      errorResponseBuilder: (_request, context) =>
        new DomainError(
          429,
          'rate_limited',
          `too many requests: your tenant may make ${context.max} of these per window; retry in ${seconds(context.ttl)}`,
          { limit: context.max },
        ),
    });
  },
  { name: 'rate-limits', dependencies: ['api-key-auth'] },
);
