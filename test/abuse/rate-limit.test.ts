import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { LimitsFor } from '../../src/api/plugins/rate-limits.js';
import { TenantsRepository } from '../../src/db/tenants.repository.js';
import { createRedis } from '../../src/queue/redis-connection.js';
import { wireApi, type ApiParts } from '../../src/runtime/wiring.js';
import { injectClient } from '../client/graft-client.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';

/*
 * Rate limits against the real server, its Redis and PostgreSQL, with small budgets: the
 * default 5 per 10 s, uploads 2, jobs 2 and predict 3 per minute.
 */

let h: Harness;
let parts: ApiParts;
const extraApps: FastifyInstance[] = [];

beforeAll(async () => {
  h = await startHarness({
    worker: false,
    env: {
      GRAFT_RATE_LIMITS: 'on',
      GRAFT_RATE_DEFAULT: '5/10s',
      GRAFT_RATE_UPLOADS: '2/1m',
      GRAFT_RATE_JOBS: '2/1m',
      GRAFT_RATE_PREDICT: '3/1m',
    },
  });
  parts = wireApi(h.config);
});

afterAll(async () => {
  for (const app of extraApps) await app.close();
  await parts?.close();
  await h?.close();
});

const PAGE = { params: { query: { limit: 20, offset: 0 } } };
const MISSING_MODEL = '00000000-0000-0000-0000-000000000000';

/** The same app as the harness's, with other dependencies. */
async function appWith(deps: { limitsFor?: LimitsFor; redisUrl?: string }) {
  const redis = deps.redisUrl ? createRedis(deps.redisUrl, 'queue') : parts.redis;
  redis.on('error', () => undefined);
  const app = await buildApp({
    ...parts.app,
    health: { db: parts.db, redis },
    logger: false,
    limitsFor: deps.limitsFor ?? parts.app.limitsFor,
  });
  extraApps.push(app);
  if (deps.redisUrl) app.addHook('onClose', () => redis.disconnect());
  return app;
}

const statuses = async (n: number, call: () => Promise<{ response: Response }>) => {
  const answers: number[] = [];
  for (let i = 0; i < n; i++) answers.push((await call()).response.status);
  return answers;
};

describe('rate limits', () => {
  it("answers one key's burst with 429 and Retry-After while another tenant keeps getting 200", async () => {
    const noisy = injectClient(h.app, await h.newKey('noisy'));
    const quiet = injectClient(h.app, await h.newKey('quiet'));
    const first = await noisy.GET('/v1/datasets', PAGE);
    expect(first.response.status).toBe(200);
    expect(first.response.headers.get('ratelimit-limit')).toBe('5');
    expect(first.response.headers.get('ratelimit-remaining')).toBe('4');
    expect(Number(first.response.headers.get('ratelimit-reset'))).toBeGreaterThan(0);
    expect(await statuses(4, () => noisy.GET('/v1/datasets', PAGE))).toEqual([200, 200, 200, 200]);

    const refused = await noisy.GET('/v1/datasets', PAGE);
    expect(refused.response.status).toBe(429);
    expect(refused.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.error).toMatchObject({ status: 429, code: 'rate_limited', limit: 5 });
    const retryAfter = Number(refused.response.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(10);
    expect(refused.response.headers.get('ratelimit-limit')).toBe('5');
    expect(refused.response.headers.get('ratelimit-remaining')).toBe('0');
    expect(refused.response.headers.get('ratelimit-reset')).toBe(String(retryAfter));

    // Another tenant's budget is its own.
    expect(await statuses(5, () => quiet.GET('/v1/datasets', PAGE))).toEqual([
      200, 200, 200, 200, 200,
    ]);
    // A second key of the noisy tenant shares its budget: more keys buy no more requests.
    const second = injectClient(h.app, await h.newKey('noisy'));
    expect((await second.GET('/v1/datasets', PAGE)).response.status).toBe(429);
  });

  it('gives uploads, job creation and predict smaller budgets of their own', async () => {
    const key = await h.newKey('busy');
    const api = injectClient(h.app, key);
    // None of these is a valid upload, job or image: the limit counts requests, not successes.
    const upload = async () => {
      const { statusCode } = await h.app.inject({
        method: 'POST',
        url: '/v1/datasets',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
        payload: 'not a multipart form',
      });
      return { response: new Response(null, { status: statusCode }) };
    };
    expect(await statuses(3, upload)).toEqual([415, 415, 429]);
    const job = () => api.POST('/v1/jobs', { body: { datasetId: MISSING_MODEL } });
    const jobs = await statuses(3, job);
    expect(jobs[2]).toBe(429);
    expect(jobs.slice(0, 2)).not.toContain(429);
    const predict = () =>
      api.POST('/v1/models/{id}/predict', {
        params: { path: { id: MISSING_MODEL }, query: { topK: 5 } },
        body: { image: 'aGVsbG8=' },
      });
    expect(await statuses(4, predict)).toEqual([404, 404, 404, 429]);
    // Those budgets are not the default one: reading is still allowed.
    const listed = await api.GET('/v1/datasets', PAGE);
    expect(listed.response.status).toBe(200);
    expect(listed.response.headers.get('ratelimit-remaining')).toBe('4');
  });

  it("applies a tenant's own limits from limitsFor, and the defaults when it fails", async () => {
    const big = await parts.services.keys.create('big-customer');
    const flaky = await parts.services.keys.create('flaky-lookup');
    const app = await appWith({
      limitsFor: (tenantId) =>
        tenantId === big.tenantId
          ? Promise.resolve({ default: { max: 8 } })
          : Promise.reject(new Error('tenants table unavailable')),
    });
    const bigClient = injectClient(app, big.key);
    expect(await statuses(8, () => bigClient.GET('/v1/datasets', PAGE))).toEqual(
      Array(8).fill(200),
    );
    const over = await bigClient.GET('/v1/datasets', PAGE);
    expect(over.response.status).toBe(429);
    expect(over.response.headers.get('ratelimit-limit')).toBe('8');
    const flakyClient = injectClient(app, flaky.key);
    const answered = await flakyClient.GET('/v1/datasets', PAGE);
    expect(answered.response.status).toBe(200);
    expect(answered.response.headers.get('ratelimit-limit')).toBe('5');
  });

  it('applies the limits stored with a tenant (npm run tenants -- set-rate) and shows them in /v1/usage', async () => {
    const vip = await parts.services.keys.create('vip');
    const tenants = new TenantsRepository(parts.db, h.config.quotas);
    await tenants.setRateLimit(vip.tenantId, 'default', { max: 7, windowMs: 20_000 });
    await tenants.setRateLimit(vip.tenantId, 'predict', { max: 1, windowMs: 60_000 });
    await tenants.setRateLimit(vip.tenantId, 'predict', null);
    const api = injectClient(h.app, vip.key);
    const usage = await api.GET('/v1/usage');
    expect(usage.response.status).toBe(200);
    expect(usage.data?.rateLimits).toEqual({
      default: { max: 7, windowSeconds: 20, own: true },
      uploads: { max: 2, windowSeconds: 60, own: false },
      jobs: { max: 2, windowSeconds: 60, own: false },
      predict: { max: 3, windowSeconds: 60, own: false },
      thumbnails: { max: 1000, windowSeconds: 10, own: false },
    });
    expect(usage.response.headers.get('ratelimit-limit')).toBe('7');
    expect(await statuses(6, () => api.GET('/v1/datasets', PAGE))).toEqual(Array(6).fill(200));
    const over = await api.GET('/v1/datasets', PAGE);
    expect(over.response.status).toBe(429);
    expect(over.error).toMatchObject({ code: 'rate_limited', limit: 7 });
    // Another tenant still has the default.
    const other = injectClient(h.app, await h.newKey('not-vip'));
    const listed = await other.GET('/v1/datasets', PAGE);
    expect(listed.response.headers.get('ratelimit-limit')).toBe('5');
  });

  it('limits routes without a key per client address, never /healthz', async () => {
    const address = `10.${[1, 2, 3].map(() => randomBytes(1)[0]!).join('.')}`;
    const probe = (url: string) => h.app.inject({ method: 'GET', url, remoteAddress: address });
    const ready = [];
    for (let i = 0; i < 6; i++) ready.push((await probe('/readyz')).statusCode);
    expect(ready).toEqual([200, 200, 200, 200, 200, 429]);
    const live = [];
    for (let i = 0; i < 20; i++) live.push((await probe('/healthz')).statusCode);
    expect(live).toEqual(Array(20).fill(200));
    // Another address has its own budget.
    expect((await h.app.inject({ method: 'GET', url: '/readyz' })).statusCode).not.toBe(429);
  });

  it('believes X-Forwarded-For only from the proxies GRAFT_TRUST_PROXY names', async () => {
    const behind = await buildApp({
      ...parts.app,
      config: { ...h.config, trustProxy: ['127.0.0.1'] },
      logger: false,
    });
    extraApps.push(behind);
    const octets = () => `${randomBytes(1)[0]!}.${randomBytes(1)[0]!}`;
    const client = `10.9.${octets()}`;
    const probe = (app: FastifyInstance, remoteAddress: string, forwardedFor: string) =>
      app.inject({
        method: 'GET',
        url: '/readyz',
        remoteAddress,
        headers: { 'x-forwarded-for': forwardedFor },
      });
    const fromProxy = [];
    for (let i = 0; i < 6; i++)
      fromProxy.push((await probe(behind, '127.0.0.1', client)).statusCode);
    expect(fromProxy).toEqual([200, 200, 200, 200, 200, 429]);
    // Another client behind the same proxy has its own budget.
    expect((await probe(behind, '127.0.0.1', `10.10.${octets()}`)).statusCode).toBe(200);
    // Without trust the header is ignored: a client cannot give itself a new address each time.
    const direct = `10.11.${octets()}`;
    const spoofing = [];
    for (let i = 0; i < 6; i++)
      spoofing.push((await probe(h.app, direct, `10.12.0.${i}`)).statusCode);
    expect(spoofing).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('lets requests through when Redis does not answer', async () => {
    const app = await appWith({ redisUrl: 'redis://127.0.0.1:1' });
    const api = injectClient(app, await h.newKey('redis-down'));
    const started = performance.now();
    expect(await statuses(10, () => api.GET('/v1/datasets', PAGE))).toEqual(Array(10).fill(200));
    expect(performance.now() - started).toBeLessThan(5000);
  });
});
