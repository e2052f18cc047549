import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiKeyAuth } from '../../src/api/plugins/api-key-auth.js';
import { loadShedding } from '../../src/api/plugins/load-shedding.js';
import { problemErrors } from '../../src/api/plugins/problem-errors.js';
import { rateLimits } from '../../src/api/plugins/rate-limits.js';
import { metricsRoutes } from '../../src/api/routes/metrics.routes.js';
import {
  ConfigError,
  loadConfig,
  RATE_CLASSES,
  type MetricsSettings,
  type RateLimits,
} from '../../src/config/config.js';
import { TRAINING_JOB_PAYLOAD_VERSION } from '../../src/contracts/training-job.js';
import type { ApiKeysRepository } from '../../src/db/api-keys.repository.js';
import { serveMetrics } from '../../src/observability/metrics-server.js';
import { TRAIN_JOB_NAME } from '../../src/queue/training-queue.js';
import { file, formBody, injectClient, type GraftClient } from '../client/graft-client.js';
import { photo } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';
import { trainColourModel } from '../helpers/trained-model.js';

/*
 * GET /metrics on a real Graft (API and a sandboxed worker in this process, as `npm start`
 * runs them): after an upload, a training job and predictions, every series is there with its
 * type, and the counters moved. Only the metrics token reads it.
 */

const TOKEN = 'metrics-token-for-the-tests';

let h: Harness;
let api: GraftClient;
let key: string;
let jobId: string;
let modelId: string;

beforeAll(async () => {
  h = await startHarness({ worker: true, env: { GRAFT_METRICS_TOKEN: TOKEN } });
  key = await h.newKey('acme');
  api = injectClient(h.app, key);
  ({ jobId, modelId } = await trainColourModel(api));
  const image = file(await photo([215, 35, 45], 77), 'red.jpg', 'image/jpeg');
  // Twice: the first loads the model (a miss), the second finds it loaded (a hit).
  for (let i = 0; i < 2; i++) {
    const { response } = await api.POST('/v1/models/{id}/predict', {
      params: { path: { id: modelId }, query: { topK: 2 } },
      ...formBody('/v1/models/{id}/predict', { file: [image] }),
    });
    expect(response.status).toBe(200);
  }
});

afterAll(async () => {
  await h?.close();
});

const scrape = (authorization?: string) =>
  h.app.inject({
    method: 'GET',
    url: '/metrics',
    headers: authorization ? { authorization } : {},
  });

/** Parsed exposition text: each series' TYPE, and each sample's value by its full name. */
function parse(text: string) {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1]!, type[2]!);
    else if (line && !line.startsWith('#')) {
      const at = line.lastIndexOf(' ');
      samples.set(line.slice(0, at), Number(line.slice(at + 1)));
    }
  }
  return { types, samples };
}

async function metrics() {
  const response = await scrape(`Bearer ${TOKEN}`);
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parse(response.payload);
}

/** The sum of every sample of `name` whose labels include all of `labels`. */
function total(samples: Map<string, number>, name: string, labels: Record<string, string> = {}) {
  let sum = 0;
  let found = false;
  for (const [series, value] of samples) {
    const [metric, rest = ''] = series.split('{');
    if (metric !== name) continue;
    if (!Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`))) continue;
    sum += value;
    found = true;
  }
  return found ? sum : undefined;
}

const EXPECTED_TYPES = {
  graft_http_request_duration_seconds: 'histogram',
  graft_queue_jobs: 'gauge',
  graft_queue_oldest_waiting_age_seconds: 'gauge',
  graft_training_jobs: 'gauge',
  graft_training_jobs_finished_total: 'counter',
  graft_training_phase_duration_seconds: 'histogram',
  graft_training_images_per_second: 'gauge',
  graft_training_feature_images_total: 'counter',
  graft_inference_request_duration_seconds: 'histogram',
  graft_inference_batch_images: 'histogram',
  graft_inference_batch_duration_seconds: 'histogram',
  graft_inference_model_cache_hits_total: 'counter',
  graft_inference_model_cache_misses_total: 'counter',
  graft_inference_model_cache_evictions_total: 'counter',
  graft_storage_operation_duration_seconds: 'histogram',
  graft_storage_operation_errors_total: 'counter',
  graft_metrics_scrape_errors_total: 'counter',
  // Node's own, under the prefix.
  graft_process_cpu_seconds_total: 'counter',
  graft_process_resident_memory_bytes: 'gauge',
  graft_nodejs_eventloop_lag_seconds: 'gauge',
  graft_nodejs_heap_size_used_bytes: 'gauge',
};

describe('GET /metrics', () => {
  it('is refused without the token, with a wrong one, and with a tenant API key', async () => {
    for (const authorization of [
      undefined,
      'Bearer not-the-metrics-token',
      `Bearer ${key}`,
      `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
    ]) {
      const response = await scrape(authorization);
      expect(response.statusCode, String(authorization)).toBe(401);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['www-authenticate']).toBe('Bearer realm="graft-metrics"');
      expect(response.payload).not.toContain('graft_');
    }
  });

  it('shows every series with its type, and the counters moved', async () => {
    // The worker process observes a run when BullMQ reports it done, just after the row.
    let parsed = await metrics();
    for (let i = 0; i < 100 && !total(parsed.samples, 'graft_training_jobs_finished_total'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      parsed = await metrics();
    }
    const { types, samples } = parsed;
    for (const [name, type] of Object.entries(EXPECTED_TYPES))
      expect(`${name} ${types.get(name)}`).toBe(`${name} ${type}`);
    const count = (name: string, labels?: Record<string, string>) =>
      total(samples, `${name}_count`, labels) ?? 0;

    // HTTP: by route pattern and status, never by URL.
    expect(
      count('graft_http_request_duration_seconds', {
        method: 'POST',
        route: '/v1/datasets',
        status: '201',
      }),
    ).toBe(1);
    expect(
      count('graft_http_request_duration_seconds', { route: '/v1/jobs/:id', status: '200' }),
    ).toBeGreaterThanOrEqual(1);
    expect(
      count('graft_http_request_duration_seconds', {
        route: '/v1/models/:id/predict',
        status: '200',
      }),
    ).toBe(2);
    expect(count('graft_http_request_duration_seconds', { route: '/metrics', status: '401' })).toBe(
      4,
    );
    expect([...samples.keys()].some((series) => series.includes(jobId))).toBe(false);

    // The job: its row, its outcome, its phases and throughput (reported by the sandbox).
    expect(total(samples, 'graft_training_jobs', { status: 'succeeded' })).toBe(1);
    expect(total(samples, 'graft_training_jobs', { status: 'queued' })).toBe(0);
    expect(total(samples, 'graft_queue_jobs', { state: 'active' })).toBe(0);
    expect(total(samples, 'graft_queue_oldest_waiting_age_seconds')).toBe(0);
    expect(total(samples, 'graft_training_jobs_finished_total', { outcome: 'succeeded' })).toBe(1);
    for (const phase of ['featureCache', 'featureExtraction', 'total'])
      expect(count('graft_training_phase_duration_seconds', { phase }), phase).toBe(1);
    expect(count('graft_training_phase_duration_seconds', { phase: 'fineTuning' })).toBe(0);
    expect(
      total(samples, 'graft_training_images_per_second', { phase: 'featureCache' }),
    ).toBeGreaterThan(0);
    // A first job of its tenant: every image extracted, none from the embedding cache.
    expect(
      total(samples, 'graft_training_feature_images_total', { source: 'extracted' }),
    ).toBeGreaterThan(0);
    expect(
      total(samples, 'graft_training_feature_images_total', { source: 'embedding_cache' }),
    ).toBe(0);

    // Inference: two requests, one image each; the model loaded once, then found.
    expect(count('graft_inference_request_duration_seconds', { outcome: 'ok' })).toBe(2);
    expect(count('graft_inference_batch_images')).toBe(2);
    expect(total(samples, 'graft_inference_batch_images_sum')).toBe(2);
    expect(count('graft_inference_batch_duration_seconds')).toBe(2);
    expect(total(samples, 'graft_inference_model_cache_misses_total')).toBe(1);
    expect(total(samples, 'graft_inference_model_cache_hits_total')).toBe(1);

    // Storage: the upload wrote the images, the worker's reads ran in its sandbox.
    expect(count('graft_storage_operation_duration_seconds', { operation: 'put' })).toBeGreaterThan(
      0,
    );
    expect(total(samples, 'graft_process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('counts a model let go when it is deleted', async () => {
    const before = total((await metrics()).samples, 'graft_inference_model_cache_evictions_total');
    expect(before).toBeUndefined();
    const { response } = await api.DELETE('/v1/models/{id}', {
      params: { path: { id: modelId } },
    });
    expect(response.status).toBe(204);
    let evicted: number | undefined;
    for (let i = 0; i < 50 && !evicted; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      evicted = total((await metrics()).samples, 'graft_inference_model_cache_evictions_total', {
        reason: 'deleted',
      });
    }
    expect(evicted).toBe(1);
  });

  it('shows a waiting job in the queue and its age', async () => {
    // A job row queued 90 s ago whose queue entry is delayed (as a deferred job's is): no
    // worker takes it meanwhile.
    const trained = await h.db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
    const waiting = await h.db.trainingJob.create({
      data: {
        tenantId: trained.tenantId,
        datasetId: trained.datasetId,
        spec: trained.spec as object,
      },
    });
    await h.db
      .$executeRaw`UPDATE "TrainingJob" SET "updatedAt" = now() - interval '90 seconds' WHERE "id" = ${waiting.id}::uuid`;
    await h.queue.add(
      TRAIN_JOB_NAME,
      { version: TRAINING_JOB_PAYLOAD_VERSION, jobId: waiting.id },
      { jobId: waiting.id, delay: 600_000 },
    );
    try {
      // Over a second later: scrapes closer together share one reading.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const { samples } = await metrics();
      expect(total(samples, 'graft_training_jobs', { status: 'queued' })).toBe(1);
      expect(total(samples, 'graft_queue_jobs', { state: 'delayed' })).toBe(1);
      expect(total(samples, 'graft_queue_oldest_waiting_age_seconds')).toBeGreaterThanOrEqual(90);
    } finally {
      await h.queue.remove(waiting.id);
      await h.db.trainingJob.update({ where: { id: waiting.id }, data: { status: 'cancelled' } });
    }
  });
});

describe('who may read the metrics', () => {
  const appWith = async (settings: MetricsSettings) => {
    const app = Fastify();
    await app.register(problemErrors);
    await app.register(metricsRoutes, { settings });
    return app;
  };

  it('answers 404 by default, like a missing route, and anyone with GRAFT_METRICS=open', async () => {
    expect(loadConfig({}).metrics).toEqual({ access: 'off' });
    expect(loadConfig({ GRAFT_METRICS: 'open' }).metrics).toEqual({ access: 'open' });
    const hidden = await appWith(loadConfig({}).metrics);
    const missing = await hidden.inject({
      url: '/metrics',
      headers: { authorization: 'Bearer x' },
    });
    expect([missing.statusCode, missing.json()]).toEqual([
      404,
      expect.objectContaining({ code: 'not_found', detail: 'no route GET /metrics' }),
    ]);
    const open = await appWith(loadConfig({ GRAFT_METRICS: 'open' }).metrics);
    const read = await open.inject({ url: '/metrics' });
    expect(read.statusCode).toBe(200);
    expect(read.payload).toContain('# TYPE graft_http_request_duration_seconds histogram');
    await Promise.all([hidden.close(), open.close()]);
  });

  it('is never rate limited, and answered while the process sheds load', async () => {
    const scrapesAndOthers = async (setUp: (app: FastifyInstance) => Promise<void>) => {
      const app = Fastify();
      await app.register(problemErrors);
      await app.register(apiKeyAuth, { keys: {} as ApiKeysRepository });
      await setUp(app);
      app.get('/other', () => 'ok');
      await app.register(metricsRoutes, { settings: { access: 'open' } });
      // under-pressure samples every second.
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const answers = [];
      for (let i = 0; i < 3; i++) {
        answers.push((await app.inject({ url: '/metrics' })).statusCode);
        answers.push((await app.inject({ url: '/other' })).statusCode);
      }
      await app.close();
      return answers;
    };
    const limited = await scrapesAndOthers(async (app) => {
      await app.register(rateLimits, {
        redis: h.redis,
        limits: Object.fromEntries(
          RATE_CLASSES.map((c) => [c, { max: 1, windowMs: 60_000 }]),
        ) as RateLimits,
      });
    });
    expect(limited).toEqual([200, 200, 200, 429, 200, 429]);
    // Over its heap limit from the first sample on.
    const shedding = await scrapesAndOthers(async (app) => {
      await app.register(loadShedding, {
        ...loadConfig({}).admission,
        maxEventLoopDelayMs: 0,
        maxHeapUsedBytes: 1,
        maxRssBytes: 0,
      });
    });
    expect(shedding).toEqual([200, 503, 200, 503, 200, 503]);
  });

  it('refuses contradictory or weak settings', () => {
    expect(() => loadConfig({ GRAFT_METRICS_TOKEN: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ GRAFT_METRICS: 'open', GRAFT_METRICS_TOKEN: TOKEN })).toThrow(
      /contradict/,
    );
    expect(() => loadConfig({ GRAFT_METRICS: 'yes' })).toThrow(/open or off/);
    expect(loadConfig({ GRAFT_METRICS: 'off', GRAFT_METRICS_TOKEN: TOKEN }).metrics).toEqual({
      access: 'off',
    });
    expect(loadConfig({ GRAFT_METRICS_TOKEN: TOKEN, GRAFT_METRICS_PORT: '9464' }).metrics).toEqual({
      access: 'token',
      token: TOKEN,
      port: 9464,
    });
  });

  it("serves a worker's metrics on a port of its own, by the same rule", async () => {
    const server = await serveMetrics({ access: 'token', token: TOKEN }, '127.0.0.1', 0);
    try {
      const url = `http://127.0.0.1:${server.port}`;
      const get = (path: string, authorization?: string) =>
        fetch(`${url}${path}`, { headers: authorization ? { authorization } : {} });
      expect((await get('/metrics')).status).toBe(401);
      expect((await get('/metrics', `Bearer ${key}`)).status).toBe(401);
      expect((await get('/other', `Bearer ${TOKEN}`)).status).toBe(404);
      const read = await get('/metrics', `Bearer ${TOKEN}`);
      expect(read.status).toBe(200);
      expect(await read.text()).toContain('# TYPE graft_training_jobs_finished_total counter');
    } finally {
      await server.close();
    }
  });
});
