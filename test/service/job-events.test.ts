import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStateEventView } from '../../src/contracts/job-events.js';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import { TenantsRepository } from '../../src/db/tenants.repository.js';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import { buildApp } from '../../src/api/app.js';
import { JobEventStream, jobEventsKey, jobEventsKeys } from '../../src/queue/job-event-stream.js';
import { wireApi, wireJobEvents } from '../../src/runtime/wiring.js';
import { DomainError } from '../../src/services/domain-error.js';
import { JobEventsFeed } from '../../src/services/job-events-feed.js';
import { JobEvents } from '../../src/services/job-events.js';
import { JobsService } from '../../src/services/jobs.service.js';
import { file, formBody, injectClient, type GraftClient } from '../client/graft-client.js';
import { colourDataset } from '../helpers/dataset-zips.js';
import { jobClient } from '../helpers/job-client.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';
import { collect, openJobEvents, strictlyIncreasing, type ReceivedEvent } from '../helpers/sse.js';

/*
 * GET /v1/jobs/:id/events against a real Graft (PostgreSQL, Redis, a worker with sandboxed
 * processors), read the way the console reads it: fetch with the API key, then an SSE parser.
 */

let h: Harness;
let api: GraftClient;
let key: string;
let baseUrl: string;
let datasetId: string;

beforeAll(async () => {
  // A job long enough to cancel while it runs needs more epochs than the default quota.
  h = await startHarness({ worker: true, env: { GRAFT_QUOTA_EPOCHS_PER_PHASE: '1000' } });
  key = await h.newKey('acme');
  api = injectClient(h.app, key);
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  const { data } = await api.POST(
    '/v1/datasets',
    formBody('/v1/datasets', { file: file(await colourDataset(6), 'colours.zip') }),
  );
  datasetId = data!.id;
});

afterAll(async () => {
  await h?.close();
});

const { submit, job, waitFor } = jobClient(
  () => api,
  () => datasetId,
);

/**
 * A job of `tenant` that no worker will claim (it is not on the queue), told `queued` as the
 * API tells it: a job the tests can cancel while it surely is queued.
 */
async function queuedJob(tenant = 'acme') {
  const { id: tenantId } = await h.db.tenant.findUniqueOrThrow({ where: { name: tenant } });
  const { id } = await h.db.trainingJob.create({ data: { tenantId, spec: {} } });
  await wireJobEvents(h.redis, h.db, h.config).state(tenantId, id, { status: 'queued' });
  return { tenantId, id };
}

const cancelled = (id: string) =>
  h.db.trainingJob.updateMany({
    where: { id, status: { in: ['queued', 'running'] } },
    data: { status: 'cancelled', finishedAt: new Date() },
  });

/** A DomainError's status and code, or the error. */
const refusal = (watching: Promise<unknown>) =>
  watching.then(
    () => 'watched',
    (error: unknown) => (error instanceof DomainError ? [error.status, error.code] : error),
  );

const states = (events: ReceivedEvent[]) =>
  events
    .filter((e) => e.event === 'state')
    .map((e) => {
      const state = e.data as JobStateEventView;
      return state.cancelRequested && state.status !== 'cancelled'
        ? `${state.status} (cancel requested)`
        : state.status;
    });

/** Numbers to 12 significant digits, in any JSON. */
const rounded = (value: unknown): unknown =>
  typeof value === 'number'
    ? Number(value.toPrecision(12))
    : Array.isArray(value)
      ? value.map(rounded)
      : value && typeof value === 'object'
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]))
        : value;

/** Every event well-formed: its SSE name is its type, its job the one asked for. */
function expectWellFormed(events: ReceivedEvent[], jobId: string) {
  for (const { event, data } of events) {
    expect(event).toBe(data.type);
    expect(data.jobId).toBe(jobId);
  }
  expect(strictlyIncreasing(events.map((e) => e.id))).toBe(true);
}

describe('job events (Server-Sent Events over Redis streams)', () => {
  it("streams a job's life live: states, progress, epochs with validation metrics, the report", async () => {
    const created = await submit({
      featureExtraction: { epochs: 3, batchSize: 4 },
      fineTuning: { epochs: 2, batchSize: 4 },
      baseline: { allowShip: false },
    });
    const stream = await openJobEvents(baseUrl, key, created.id);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.get('cache-control')).toMatch(/no-cache/);
    // The server ends the response itself once the report is sent.
    const events = await collect(stream);
    expectWellFormed(events, created.id);
    expect(states(events)).toEqual(['queued', 'running', 'succeeded']);

    const finished = await job(created.id);
    expect(finished.status).toBe('succeeded');
    const types = events.map((e) => e.event);
    // The report is last, right after the success; progress and epochs come while running.
    expect(types.slice(-2)).toEqual(['state', 'report']);
    const running = types.indexOf('state', 1);
    const succeeded = types.lastIndexOf('state');
    const during = types.slice(running + 1, succeeded);
    expect(new Set(during)).toEqual(new Set(['progress', 'epoch']));

    const progress = events.flatMap((e) => (e.data.type === 'progress' ? [e.data] : []));
    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) {
      expect(p.progress).toBeGreaterThanOrEqual(0);
      expect(p.progress).toBeLessThan(1);
      expect(p.batch).toBeLessThanOrEqual(p.batches);
    }
    // Shown progress never goes back.
    const shown = progress.map((p) => p.progress);
    expect(shown).toEqual([...shown].sort((a, b) => a - b));

    const epochs = events.flatMap((e) => (e.data.type === 'epoch' ? [e.data.record] : []));
    // The same records as the job's history, each with its held-out metrics.
    expect(epochs.map((r) => `${r.phase}:${r.epoch}`)).toEqual(
      finished.history.map((r) => `${r.phase}:${r.epoch}`),
    );
    for (const record of epochs) {
      expect(record.valAccuracy).toBeGreaterThanOrEqual(0);
      expect(record.valAccuracy).toBeLessThanOrEqual(1);
      expect(typeof record.valLoss).toBe('number');
    }

    const success = events.at(-2)!.data as JobStateEventView;
    expect(success).toMatchObject({ status: 'succeeded', modelId: finished.modelId, error: null });
    const report = events.at(-1)!.data;
    expect(report).toMatchObject({ type: 'report', modelId: finished.modelId });
    // The job's stored summary (PostgreSQL's jsonb keeps 15 significant digits).
    expect(rounded(report.type === 'report' && report.metrics)).toEqual(rounded(finished.metrics));

    // Again from the start: the same events, the same ids (stored, not process memory).
    const replay = await collect(await openJobEvents(baseUrl, key, created.id));
    expect(replay).toEqual(events);
    // After the last one, nothing more: 204, so an EventSource stops reconnecting.
    const after = await openJobEvents(baseUrl, key, created.id, { lastEventId: events.at(-1)!.id });
    expect(after.status).toBe(204);
    // From the middle: exactly the rest.
    const middle = events[Math.floor(events.length / 2)]!;
    const rest = await collect(
      await openJobEvents(baseUrl, key, created.id, { query: `lastEventId=${middle.id}` }),
    );
    expect(rest).toEqual(events.slice(Math.floor(events.length / 2) + 1));
  });

  it("tells a queued job's cancel at once, and a running job's cancel request, then its end", async () => {
    const long = await submit({ fineTuning: { epochs: 1000, batchSize: 2, patience: 100 } });
    await waitFor(long.id, (j) => j.status === 'running' && j.phase !== null);
    // Not on the queue: no worker can claim it before the cancel.
    const waiting = await queuedJob();

    const queuedStream = await openJobEvents(baseUrl, key, waiting.id);
    const queuedEvents = collect(queuedStream);
    await api.POST('/v1/jobs/{id}/cancel', { params: { path: { id: waiting.id } } });
    const told = await queuedEvents;
    expectWellFormed(told, waiting.id);
    expect(states(told)).toEqual(['queued', 'cancelled']);
    expect(told.at(-1)!.data).toMatchObject({ status: 'cancelled', cancelRequested: true });

    const runningStream = await openJobEvents(baseUrl, key, long.id);
    const runningEvents = collect(runningStream);
    await api.POST('/v1/jobs/{id}/cancel', { params: { path: { id: long.id } } });
    const events = await runningEvents;
    expectWellFormed(events, long.id);
    expect(states(events)).toEqual([
      'queued',
      'running',
      'running (cancel requested)',
      'cancelled',
    ]);
    expect(events.some((e) => e.event === 'progress')).toBe(true);
    expect((await job(long.id)).status).toBe('cancelled');
  });

  it('tells `queued` before the job is on the queue, so no worker can tell `running` first', async () => {
    const onQueue: boolean[] = [];
    const events = new JobEvents(new JobEventStream(h.redis, { ttlSeconds: 60 }), [
      async (_tenant, event) => {
        if (event.type === 'state' && event.status === 'queued')
          onQueue.push((await h.queue.getJob(event.jobId)) !== undefined);
      },
    ]);
    const jobs = new JobsService(
      new TrainingJobsRepository(h.db),
      new DatasetsRepository(h.db),
      h.queue,
      new TenantsRepository(h.db, h.config.quotas),
      [],
      events,
    );
    const { id: tenantId } = await h.db.tenant.findUniqueOrThrow({ where: { name: 'acme' } });
    const created = await jobs.create(tenantId, { datasetId });
    expect(onQueue).toEqual([false]);
    await jobs.cancel(tenantId, created.id);
    await waitFor(created.id, (j) => j.status === 'cancelled');
  });

  it("is the tenant's own: another tenant's job is 404, before anything is streamed", async () => {
    const created = await queuedJob();
    await api.POST('/v1/jobs/{id}/cancel', { params: { path: { id: created.id } } });
    const other = await h.newKey('someone-else');
    const response = await openJobEvents(baseUrl, other, created.id);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(await response.text())).toMatchObject({ code: 'not_found' });
    // Nor a job that does not exist.
    const missing = await openJobEvents(baseUrl, key, '00000000-0000-4000-8000-000000000000');
    expect(missing.status).toBe(404);
  });

  it('refuses a Last-Event-ID that is not an event id (header or query): 400', async () => {
    const created = await queuedJob();
    for (const options of [
      { lastEventId: 'latest' },
      { query: 'lastEventId=12-x' },
      // The pattern holds, but Redis takes no part above 2^64-1.
      { lastEventId: '18446744073709551616-0' },
      { query: 'lastEventId=1-99999999999999999999' },
    ]) {
      const response = await openJobEvents(baseUrl, key, created.id, options);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      await response.text();
    }
    await api.POST('/v1/jobs/{id}/cancel', { params: { path: { id: created.id } } });
  });

  it('ends a finished job whose stream is gone (expired) with its terminal state from the row', async () => {
    const created = await queuedJob();
    await api.POST('/v1/jobs/{id}/cancel', { params: { path: { id: created.id } } });
    await h.redis.del(...jobEventsKeys(created.id));
    const events = await collect(await openJobEvents(baseUrl, key, created.id));
    expect(events.map((e) => e.event)).toEqual(['state']);
    expect(events[0]!.data).toMatchObject({ status: 'cancelled', cancelRequested: true });
    // Appended once: every replica, and every reconnect, sees the same id.
    const again = await collect(await openJobEvents(baseUrl, key, created.id));
    expect(again).toEqual(events);
    const after = await openJobEvents(baseUrl, key, created.id, { lastEventId: events[0]!.id });
    expect(after.status).toBe(204);
    // The stream expires again after its TTL (GRAFT_JOB_EVENTS_TTL_HOURS, 7 days by default).
    const ttl = await h.redis.ttl(jobEventsKey(created.id));
    expect(ttl).toBeGreaterThan(7 * 24 * 3600 - 60);
    expect(ttl).toBeLessThanOrEqual(7 * 24 * 3600);
  });

  it('answers 503 with Retry-After, before any stream starts, while Redis is away', async () => {
    const { tenantId, id } = await queuedJob();
    // An API replica whose Redis is away (PostgreSQL, and so the key, are there).
    const parts = wireApi({ ...h.config, redisUrl: 'redis://127.0.0.1:1' });
    const away = await buildApp({ ...parts.app, logger: false });
    try {
      const response = await away.inject({
        method: 'GET',
        url: `/v1/jobs/${id}/events`,
        headers: { authorization: `Bearer ${key}` },
      });
      expect(response.statusCode).toBe(503);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.json()).toMatchObject({ code: 'events_unavailable' });
      expect(parts.services.jobEvents.watchers).toBe(0);
    } finally {
      await away.close();
      await parts.close();
    }
    // A fail-fast connection (as the API's) to a port where nothing listens.
    const dead = new Redis('redis://127.0.0.1:1', {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
    });
    dead.on('error', () => undefined);
    const feed = new JobEventsFeed(
      new TrainingJobsRepository(h.db),
      new JobEventStream(dead, { ttlSeconds: 60 }),
    );
    const refused = await feed.watch(tenantId, id).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({
      status: 503,
      code: 'events_unavailable',
      details: { retryAfterSeconds: 5 },
    });
    expect(feed.watchers).toBe(0);
    dead.disconnect();
    await h.db.trainingJob.update({ where: { id }, data: { status: 'cancelled' } });
  });

  it('caps the streams it follows, per tenant (429) and per replica (503), freed on close', async () => {
    const tenantJob = async (tenant: string) => {
      await h.newKey(tenant);
      return queuedJob(tenant);
    };
    const [a, b, c] = [
      await tenantJob('cap-a'),
      await tenantJob('cap-b'),
      await tenantJob('cap-c'),
    ];
    const feed = new JobEventsFeed(
      new TrainingJobsRepository(h.db),
      new JobEventStream(h.redis, { ttlSeconds: 60 }),
      { maxWatchersPerTenant: 1, maxWatchers: 2 },
    );
    const first = (await feed.watch(a.tenantId, a.id))!;
    expect(await refusal(feed.watch(a.tenantId, a.id))).toEqual([429, 'too_many_event_streams']);
    const second = (await feed.watch(b.tenantId, b.id))!;
    expect(feed.watchers).toBe(2);
    // Full: a third tenant is refused as well, with 503 (another replica may take it).
    expect(await refusal(feed.watch(c.tenantId, c.id))).toEqual([503, 'too_many_event_streams']);
    // Tenant scoping comes first: another tenant's job is 404, whatever the load.
    expect(await refusal(feed.watch(c.tenantId, a.id))).toEqual([404, 'not_found']);
    first.close();
    second.close();
    expect(feed.watchers).toBe(0);
    const third = (await feed.watch(c.tenantId, c.id))!;
    const again = (await feed.watch(a.tenantId, a.id))!;
    expect(feed.watchers).toBe(2);
    feed.closeAll();
    expect(feed.watchers).toBe(0);
    // A closed watch's items end at once, its connection gone.
    for (const watch of [third, again]) {
      const items: unknown[] = [];
      for await (const item of watch.items()) items.push(item);
      expect(items).toEqual([]);
    }
    await h.db.trainingJob.updateMany({
      where: { id: { in: [a.id, b.id, c.id] } },
      data: { status: 'cancelled', finishedAt: new Date() },
    });
  });

  it('counts a watch that is still opening against the caps', async () => {
    await h.newKey('opening-a');
    await h.newKey('opening-b');
    const [a, b] = [await queuedJob('opening-a'), await queuedJob('opening-b')];
    const feed = new JobEventsFeed(
      new TrainingJobsRepository(h.db),
      new JobEventStream(h.redis, { ttlSeconds: 60 }),
      { maxWatchers: 1 },
    );
    // Both asked at once: the second must not slip in while the first connects its follower.
    const outcomes = await Promise.all([
      refusal(feed.watch(a.tenantId, a.id)),
      refusal(feed.watch(b.tenantId, b.id)),
    ]);
    expect(outcomes.sort()).toEqual([[503, 'too_many_event_streams'], 'watched'].sort());
    expect(feed.watchers).toBe(1);
    feed.closeAll();
    expect(feed.watchers).toBe(0);
    await Promise.all([cancelled(a.id), cancelled(b.id)]);
  });

  it('refuses a watch that was still opening when the API began to close', async () => {
    const { tenantId, id } = await queuedJob();
    const feed = new JobEventsFeed(
      new TrainingJobsRepository(h.db),
      new JobEventStream(h.redis, { ttlSeconds: 60 }),
    );
    const opening = refusal(feed.watch(tenantId, id));
    feed.closeAll();
    expect(await opening).toEqual([503, 'shutting_down']);
    expect(feed.watchers).toBe(0);
    expect(await refusal(feed.watch(tenantId, id))).toEqual([503, 'shutting_down']);
    await cancelled(id);
  });

  it("ends a stream when its job's row is gone, and any stream after its longest life", async () => {
    const feedOf = (options: { maxStreamMs?: number }) =>
      new JobEventsFeed(
        new TrainingJobsRepository(h.db),
        new JobEventStream(h.redis, { ttlSeconds: 60 }),
        { heartbeatMs: 100, ...options },
      );
    const drain = async (watch: { items(): AsyncGenerator<unknown> }) => {
      const items: unknown[] = [];
      for await (const item of watch.items()) items.push(item);
      return items;
    };
    // Deleted while watched (its tenant went): the stream ends at the next quiet look.
    const gone = await queuedJob();
    const feed = feedOf({});
    const watch = (await feed.watch(gone.tenantId, gone.id))!;
    const items = drain(watch);
    await new Promise((resolve) => setTimeout(resolve, 250));
    await h.db.trainingJob.delete({ where: { id: gone.id } });
    expect((await items).filter((item) => item !== 'heartbeat')).toHaveLength(1);
    expect(feed.watchers).toBe(0);

    // Still queued after the longest life: ended, so that the client reconnects (and its key is
    // checked again).
    const waiting = await queuedJob();
    const short = feedOf({ maxStreamMs: 400 });
    const started = Date.now();
    const ended = await drain((await short.watch(waiting.tenantId, waiting.id))!);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(ended.filter((item) => item !== 'heartbeat')).toHaveLength(1);
    expect(short.watchers).toBe(0);
    await cancelled(waiting.id);
  });
});
