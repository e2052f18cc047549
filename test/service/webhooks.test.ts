import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStateEventView } from '../../src/contracts/job-events.js';
import type {
  NewWebhookView,
  WebhookDeliveryView,
  WebhookPayloadView,
} from '../../src/contracts/webhook-views.js';
import { webhookDeliveryAttempts } from '../../src/observability/metrics.js';
import { WebhooksRepository } from '../../src/db/webhooks.repository.js';
import { createRedis } from '../../src/queue/redis-connection.js';
import {
  createWebhookQueue,
  DELIVER_JOB_NAME,
  type WebhookQueue,
} from '../../src/queue/webhook-queue.js';
import { jobEventsKey } from '../../src/queue/job-event-stream.js';
import {
  NOT_QUEUED,
  TOO_MANY_PENDING,
  WebhooksService,
} from '../../src/services/webhooks.service.js';
import type { FenceTestOptions } from '../../src/storage/url-fence.js';
import { startTrainingWorker, type RunningWorker } from '../../src/worker/training-worker.js';
import { wireJobEvents } from '../../src/runtime/wiring.js';
import { startProcessReaper } from '../../src/worker/reaper.js';
import { startWebhookWorker, type WebhookWorker } from '../../src/worker/webhook-worker.js';
import { colourDataset, multipart } from '../helpers/dataset-zips.js';
import {
  startHttpsServer,
  testCertificate,
  type TestHttpsServer,
} from '../helpers/https-model-server.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';
import { seedJob } from '../worker/job-seeds.js';

/*
 * Webhooks against the real API, PostgreSQL, Redis and BullMQ, delivering to an https receiver
 * on 127.0.0.1 with a self-signed certificate. Only the fence's test-only options let the
 * deliveries reach it (`allowLoopbackFor: ['localhost']`, its certificate); a name resolving to
 * a private address goes through the fence's test-only resolver and is refused.
 */

const ATTEMPTS = 3;
const DISABLE_AFTER = 2;
const PRIVATE_NAME = 'hooks.private.example';
const REBINDING_NAME = 'hooks.rebinding.example';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the receiver answers its nth request (0-based) to a path; 204 when unset. */
type Answer = (n: number, res: ServerResponse, request: Received) => void;

let h: Harness;
let keyAcme: string;
let keyGlobex: string;
let receiver: TestHttpsServer;
const received: Received[] = [];
const answers = new Map<string, Answer>();
let fence: FenceTestOptions;
let delivery: RunningWorker | WebhookWorker;
let dispatcherQueue: WebhookQueue;
let webhooks: WebhooksService;

beforeAll(async () => {
  const { cert } = await testCertificate();
  let rebinds = 0;
  fence = {
    allowLoopbackFor: ['localhost'],
    ca: cert,
    // A public-looking name that resolves to a private address; one that resolves to a public
    // address once (at registration), then to a private one (DNS rebinding); the rest as the
    // system does.
    resolve: (host) =>
      host === PRIVATE_NAME
        ? Promise.resolve([{ address: '10.20.30.40', family: 4 }])
        : host === REBINDING_NAME
          ? Promise.resolve([
              { address: rebinds++ === 0 ? '93.184.215.14' : '10.20.30.40', family: 4 },
            ])
          : lookup(host, { all: true }),
  };
  h = await startHarness({
    worker: false,
    webhookFence: fence,
    env: {
      GRAFT_WEBHOOK_ATTEMPTS: String(ATTEMPTS),
      GRAFT_WEBHOOK_BACKOFF_MS: '50',
      GRAFT_WEBHOOK_TIMEOUT_MS: '3000',
      GRAFT_WEBHOOKS_PER_TENANT: '5',
      GRAFT_WEBHOOK_DISABLE_AFTER: String(DISABLE_AFTER),
    },
  });
  keyAcme = await h.newKey('acme');
  keyGlobex = await h.newKey('globex');
  receiver = await startHttpsServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '';
      const request = { path, headers: req.headers, body: Buffer.concat(chunks).toString() };
      const n = received.filter((r) => r.path === path).length;
      received.push(request);
      const answer = answers.get(path);
      if (answer) answer(n, res, request);
      else res.writeHead(204).end();
    });
  });
  // Deliveries as `npm start` and worker processes make them: beside the training worker.
  delivery = await startTrainingWorker(h.config, h.db, { webhookFence: fence });
  // The dispatcher job events call (wireJobEvents' listener), for events made up here.
  dispatcherQueue = createWebhookQueue(h.config.queueName, h.redis, h.config.webhooks);
  webhooks = new WebhooksService(new WebhooksRepository(h.db), dispatcherQueue, h.config.webhooks);
});

afterAll(async () => {
  await delivery?.close();
  await dispatcherQueue?.obliterate({ force: true }).catch(() => undefined);
  await dispatcherQueue?.close();
  await receiver?.close();
  await h?.close();
});

/** A delivery queue on a Redis connection that answered once, then went away (an outage). */
async function lostQueue(): Promise<WebhookQueue> {
  const lost = createRedis(h.config.redisUrl, 'queue');
  lost.on('error', () => undefined);
  const queue = createWebhookQueue(h.config.queueName, lost, h.config.webhooks);
  await queue.waitUntilReady();
  lost.disconnect();
  return queue;
}

/** One pass of a worker process's reaper. */
async function reaperPass() {
  const reaper = startProcessReaper(h.config, h.db);
  try {
    return await reaper.runOnce();
  } finally {
    await reaper.stop();
  }
}

const call = (key: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
  h.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${key}` },
    ...(payload ? { payload } : {}),
  });

async function register(
  key: string,
  path: string,
  extra: Record<string, unknown> = {},
): Promise<NewWebhookView> {
  const response = await call(key, 'POST', '/v1/webhooks', {
    url: `${receiver.origin}${path}`,
    ...extra,
  });
  expect(response.statusCode, response.body).toBe(201);
  return response.json<NewWebhookView>();
}

const tenantOf = async (name: string) =>
  (await h.db.tenant.findUniqueOrThrow({ where: { name } })).id;

let tenants = 0;

/** A tenant of its own for a test, so that its events reach only its webhooks. */
async function newTenant(): Promise<{ key: string; tenantId: string }> {
  const name = `tenant-${++tenants}`;
  const key = await h.newKey(name);
  return { key, tenantId: await tenantOf(name) };
}

function stateEvent(status: JobStateEventView['status'] = 'running'): JobStateEventView {
  return {
    type: 'state',
    jobId: randomUUID(),
    at: new Date().toISOString(),
    status,
    cancelRequested: false,
    error: null,
    modelId: null,
  };
}

async function deliveries(key: string, webhookId: string): Promise<WebhookDeliveryView[]> {
  const response = await call(key, 'GET', `/v1/webhooks/${webhookId}/deliveries`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json<{ items: WebhookDeliveryView[] }>().items;
}

/** The webhook's deliveries once none is pending (and there are `count`). */
async function settled(key: string, webhookId: string, count = 1, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = await deliveries(key, webhookId);
    if (items.length >= count && items.every((d) => d.status !== 'pending')) return items;
    if (Date.now() > deadline) throw new Error(`deliveries still ${JSON.stringify(items)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const requestsTo = (path: string) => received.filter((r) => r.path === path);

/** What a receiver does with `Graft-Signature`: recompute the HMAC, compare in constant time. */
function verifies(secret: string, header: string, body: string, toleranceS = 300): boolean {
  const parts = new Map(header.split(',').map((part) => part.split('=', 2) as [string, string]));
  const t = Number(parts.get('t'));
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > toleranceS) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(parts.get('v1') ?? '', 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

describe('registration', () => {
  it('shows the secret once: the POST answer has it, GET never does', async () => {
    const created = await register(keyAcme, '/register', { description: 'CI' });
    expect(created).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/) as string,
      url: `${receiver.origin}/register`,
      events: ['state', 'report'],
      description: 'CI',
      createdAt: expect.any(String) as string,
      disabledAt: null,
      disabledReason: null,
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9_-]{43}$/) as string,
    });
    const one = await call(keyAcme, 'GET', `/v1/webhooks/${created.id}`);
    expect(one.statusCode).toBe(200);
    const view: Partial<NewWebhookView> = { ...created };
    delete view.secret;
    expect(one.json()).toEqual(view);
    const list = await call(keyAcme, 'GET', '/v1/webhooks');
    expect(list.statusCode).toBe(200);
    expect(list.json<{ items: unknown[] }>().items).toContainEqual(view);
    expect(list.body).not.toContain(created.secret);
    expect(list.body).not.toContain('secret');
    const onlyReports = await register(keyAcme, '/register', { events: ['report'] });
    expect(onlyReports.events).toEqual(['report']);
  });

  it.each([
    ['http://hooks.example.com/graft', 'scheme'],
    ['https://10.0.0.1/graft', 'address'],
    ['https://169.254.169.254/latest/meta-data', 'address'],
    ['https://user:pass@hooks.example.com/graft', 'credentials'],
    ['https://[::1]:8443/graft', 'address'],
    ['https://127.0.0.1/graft', 'address'],
    ['ftp://hooks.example.com/graft', 'scheme'],
    ['https://hooks.localhost/graft', 'address'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'address'],
    ['https://hooks.example.com:22/graft', 'port'],
    [`https://${PRIVATE_NAME}/graft`, 'address'],
    ['https://hooks.invalid/graft', 'host'],
  ])('refuses %s with 422 (%s), as base-model URLs are', async (url, reason) => {
    const response = await call(keyAcme, 'POST', '/v1/webhooks', { url });
    expect(response.statusCode, response.body).toBe(422);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({ code: 'webhook_url_not_allowed', reason });
  });

  it('refuses malformed bodies with 400: unknown events, unknown fields, no URL', async () => {
    for (const body of [
      { url: `${receiver.origin}/x`, events: ['progress'] },
      { url: `${receiver.origin}/x`, events: [] },
      { url: `${receiver.origin}/x`, secret: 'mine' },
      { events: ['state'] },
    ]) {
      const response = await call(keyAcme, 'POST', '/v1/webhooks', body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
    }
  });

  it('allows GRAFT_WEBHOOKS_PER_TENANT webhooks per tenant, then 403 quota_exceeded', async () => {
    const key = await h.newKey('quota-tenant');
    for (let i = 0; i < 5; i++) await register(key, '/quota');
    const response = await call(key, 'POST', '/v1/webhooks', { url: `${receiver.origin}/quota` });
    expect(response.statusCode).toBe(403);
    expect(response.json()).toMatchObject({
      code: 'quota_exceeded',
      quota: 'webhooks',
      limit: 5,
      used: 5,
    });
    // The other tenants are not affected.
    await register(keyGlobex, '/quota');
  });

  it("is tenant-scoped: another tenant's webhook is 404 everywhere", async () => {
    const mine = await register(keyAcme, '/scoped');
    for (const [method, url] of [
      ['GET', `/v1/webhooks/${mine.id}`],
      ['GET', `/v1/webhooks/${mine.id}/deliveries`],
      ['POST', `/v1/webhooks/${mine.id}/enable`],
      ['DELETE', `/v1/webhooks/${mine.id}`],
    ] as const) {
      const response = await call(keyGlobex, method, url);
      expect(response.statusCode, `${method} ${url}`).toBe(404);
    }
    const list = await call(keyGlobex, 'GET', '/v1/webhooks');
    const ids = list.json<{ items: { id: string }[] }>().items.map((w) => w.id);
    expect(ids).not.toContain(mine.id);
    // Still there for its owner.
    expect((await call(keyAcme, 'GET', `/v1/webhooks/${mine.id}`)).statusCode).toBe(200);
  });
});

describe('deliveries', () => {
  it('POSTs a signed event the receiver can verify with the secret', async () => {
    const { key, tenantId } = await newTenant();
    const hook = await register(key, '/signed');
    const event = stateEvent('succeeded');
    const succeeded = async () =>
      (await webhookDeliveryAttempts.get()).values.find((v) => v.labels.outcome === 'succeeded')
        ?.value ?? 0;
    const before = await succeeded();
    await webhooks.dispatch(tenantId, event);
    const [done] = await settled(key, hook.id);
    expect(await succeeded()).toBe(before + 1);
    expect(done).toMatchObject({
      status: 'succeeded',
      attempts: 1,
      lastStatusCode: 204,
      lastError: null,
      eventType: 'state',
      jobId: event.jobId,
      deliveredAt: expect.any(String) as string,
    });
    const [request] = requestsTo('/signed');
    expect(request).toBeDefined();
    const { headers, body } = request!;
    expect(headers['content-type']).toBe('application/json');
    expect(headers['user-agent']).toBe('Graft-Webhooks/1');
    expect(headers['graft-delivery']).toBe(done!.id);
    expect(headers['graft-event']).toBe('job.state');
    expect(headers['graft-signature']).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(verifies(hook.secret, headers['graft-signature'] as string, body)).toBe(true);
    // Another secret, or a body changed by one byte, does not verify.
    const other = await register(key, '/signed-other');
    expect(verifies(other.secret, headers['graft-signature'] as string, body)).toBe(false);
    expect(verifies(hook.secret, headers['graft-signature'] as string, `${body} `)).toBe(false);
    const payload = JSON.parse(body) as WebhookPayloadView;
    expect(payload).toEqual({
      id: done!.id,
      type: 'job.state',
      createdAt: expect.any(String) as string,
      data: event,
    });
    // The log shows exactly what was sent.
    expect(done!.body).toBe(body);
  });

  it('delivers only the event types a webhook takes, and none of the others', async () => {
    const { key, tenantId } = await newTenant();
    const reports = await register(key, '/reports-only', { events: ['report'] });
    await webhooks.dispatch(tenantId, stateEvent());
    await webhooks.dispatch(tenantId, {
      type: 'progress',
      jobId: randomUUID(),
      at: new Date().toISOString(),
      phase: 'fineTuning',
      progress: 0.5,
      epoch: 1,
      epochs: 2,
      batch: 1,
      batches: 2,
      loss: 0.5,
      accuracy: 0.5,
      etaSeconds: 3,
    });
    // Another tenant's events never reach it.
    await webhooks.dispatch(await tenantOf('globex'), stateEvent());
    expect(await deliveries(key, reports.id)).toEqual([]);
  });

  it('retries a 500 with backoff until it succeeds, recording the attempts', async () => {
    answers.set('/flaky', (n, res) => res.writeHead(n < 2 ? 500 : 200).end('ok'));
    const { key, tenantId } = await newTenant();
    const hook = await register(key, '/flaky');
    await webhooks.dispatch(tenantId, stateEvent());
    const [done] = await settled(key, hook.id);
    expect(done).toMatchObject({
      status: 'succeeded',
      attempts: 3,
      lastStatusCode: 200,
      lastError: null,
    });
    const attempts = requestsTo('/flaky');
    expect(attempts).toHaveLength(3);
    // Every attempt is the same delivery, the same body, freshly signed.
    expect(new Set(attempts.map((r) => r.headers['graft-delivery']))).toEqual(new Set([done!.id]));
    expect(new Set(attempts.map((r) => r.body)).size).toBe(1);
    for (const r of attempts) {
      expect(verifies(hook.secret, r.headers['graft-signature'] as string, r.body)).toBe(true);
    }
  });

  it('gives up after GRAFT_WEBHOOK_ATTEMPTS and records it as failed', async () => {
    answers.set('/down', (_n, res) => res.writeHead(500).end('x'.repeat(100_000)));
    const { key, tenantId } = await newTenant();
    const hook = await register(key, '/down');
    await webhooks.dispatch(tenantId, stateEvent());
    const [failed] = await settled(key, hook.id);
    expect(failed).toMatchObject({
      status: 'failed',
      attempts: ATTEMPTS,
      lastStatusCode: 500,
      lastError: 'HTTP 500',
      deliveredAt: null,
    });
    // No attempt after the last.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(requestsTo('/down')).toHaveLength(ATTEMPTS);
  });

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    answers.set('/moved', (_n, res) => res.writeHead(302, { location: '/elsewhere' }).end());
    const { key, tenantId } = await newTenant();
    const hook = await register(key, '/moved');
    await webhooks.dispatch(tenantId, stateEvent());
    const [failed] = await settled(key, hook.id);
    expect(failed).toMatchObject({ status: 'failed', attempts: ATTEMPTS, lastStatusCode: 302 });
    expect(failed!.lastError).toMatch(/redirects are not followed/);
    expect(requestsTo('/elsewhere')).toHaveLength(0);
  });

  it('refuses at connect time a name that resolves to a private address since', async () => {
    const { key, tenantId } = await newTenant();
    const response = await call(key, 'POST', '/v1/webhooks', {
      url: `https://${REBINDING_NAME}/graft`,
    });
    // Public at registration; private by the time of the delivery (DNS rebinding).
    expect(response.statusCode).toBe(201);
    const hook = response.json<NewWebhookView>();
    const before = receiver.connections();
    await webhooks.dispatch(tenantId, stateEvent());
    const [failed] = await settled(key, hook.id);
    // Refused for good at once: a retry cannot make the address public.
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null });
    expect(failed!.lastError).toMatch(/^refused: .*10\.20\.30\.40/);
    expect(receiver.connections()).toBe(before);
  });

  it('stops delivering when the webhook is deleted, queued retries included', async () => {
    let release: (() => void) | undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let firstArrived: (() => void) | undefined;
    const arrived = new Promise<void>((resolve) => (firstArrived = resolve));
    answers.set('/deleted', (_n, res) => {
      firstArrived!();
      void held.then(() => res.writeHead(500).end());
    });
    const { key, tenantId } = await newTenant();
    const hook = await register(key, '/deleted');
    await webhooks.dispatch(tenantId, stateEvent());
    await arrived;
    const deleted = await call(key, 'DELETE', `/v1/webhooks/${hook.id}`);
    expect(deleted.statusCode).toBe(204);
    release!();
    // Past the backoff of every retry: none is sent.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(requestsTo('/deleted')).toHaveLength(1);
    expect((await call(key, 'GET', `/v1/webhooks/${hook.id}`)).statusCode).toBe(404);
    expect((await call(key, 'GET', `/v1/webhooks/${hook.id}/deliveries`)).statusCode).toBe(404);
    expect(await h.db.webhookDelivery.count({ where: { webhookId: hook.id } })).toBe(0);
    // New events find no webhook.
    await webhooks.dispatch(tenantId, stateEvent());
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(requestsTo('/deleted')).toHaveLength(1);
  });

  it('leaves a delivery Redis would not queue pending, saying so; the reaper queues it later', async () => {
    const { key, tenantId } = await newTenant();
    const hook = await register(key, '/no-queue');
    const queue = await lostQueue();
    const dispatcher = new WebhooksService(new WebhooksRepository(h.db), queue, h.config.webhooks);
    await dispatcher.dispatch(tenantId, stateEvent());
    const [waiting] = await deliveries(key, hook.id);
    expect(waiting).toMatchObject({ status: 'pending', attempts: 0, lastError: NOT_QUEUED });
    expect(requestsTo('/no-queue')).toHaveLength(0);
    // A few minutes later (back-dated), a worker's reaper finds it has no queue entry.
    await h.db.webhookDelivery.update({
      where: { id: waiting!.id },
      data: { createdAt: new Date(Date.now() - 10 * 60_000) },
    });
    await reaperPass();
    const [done] = await settled(key, hook.id);
    expect(done).toMatchObject({ id: waiting!.id, status: 'succeeded', attempts: 1 });
    expect(requestsTo('/no-queue')).toHaveLength(1);
  });

  it('finds a lost delivery behind older ones still waiting for their retry', async () => {
    const { key, tenantId } = await newTenant();
    const hook = await register(key, '/behind');
    const dispatcher = new WebhooksService(
      new WebhooksRepository(h.db),
      await lostQueue(),
      h.config.webhooks,
    );
    await dispatcher.dispatch(tenantId, stateEvent('queued'));
    await dispatcher.dispatch(tenantId, stateEvent('running'));
    const [newer, older] = await deliveries(key, hook.id);
    const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000);
    await h.db.webhookDelivery.update({ where: { id: older!.id }, data: { createdAt: ago(20) } });
    await h.db.webhookDelivery.update({ where: { id: newer!.id }, data: { createdAt: ago(10) } });
    // The older one has its entry: a retry an hour from now.
    await dispatcherQueue.add(
      DELIVER_JOB_NAME,
      { deliveryId: older!.id },
      { jobId: older!.id, delay: 3_600_000 },
    );
    try {
      // One row a call: the second goes on past the first, to the lost one.
      const requeued = [
        await webhooks.requeueLost(ago(5), 1),
        await webhooks.requeueLost(ago(5), 1),
      ];
      expect(requeued).toEqual([0, 1]);
      await expect
        .poll(async () => (await deliveries(key, hook.id)).find((d) => d.id === newer!.id), {
          timeout: 20_000,
          interval: 50,
        })
        .toMatchObject({ status: 'succeeded' });
      expect(requestsTo('/behind')).toHaveLength(1);
    } finally {
      await dispatcherQueue.remove(older!.id);
    }
  });

  it('records deliveries past GRAFT_WEBHOOK_MAX_PENDING pending of a tenant as failed, unsent', async () => {
    const { key, tenantId } = await newTenant();
    const hook = await register(key, '/capped');
    // Nothing is queued, so every delivery stays pending.
    const dispatcher = new WebhooksService(new WebhooksRepository(h.db), await lostQueue(), {
      ...h.config.webhooks,
      maxPending: 2,
    });
    for (let i = 0; i < 3; i++) await dispatcher.dispatch(tenantId, stateEvent());
    const items = await deliveries(key, hook.id);
    expect(items.map((d) => [d.status, d.lastError]).sort()).toEqual([
      ['failed', TOO_MANY_PENDING],
      ['pending', NOT_QUEUED],
      ['pending', NOT_QUEUED],
    ]);
    // Another tenant's deliveries are not held back.
    const other = await newTenant();
    const otherHook = await register(other.key, '/capped');
    await dispatcher.dispatch(other.tenantId, stateEvent());
    expect((await deliveries(other.key, otherHook.id)).map((d) => d.status)).toEqual(['pending']);
  });

  it('disables a webhook after GRAFT_WEBHOOK_DISABLE_AFTER failures in a row until it is enabled', async () => {
    let up = false;
    answers.set('/flapping', (_n, res) => res.writeHead(up ? 204 : 500).end());
    const { key, tenantId } = await newTenant();
    const hook = await register(key, '/flapping');
    const deliver = async (count: number) => {
      await webhooks.dispatch(tenantId, stateEvent());
      return (await settled(key, hook.id, count))[0]!.status;
    };
    const view = async () =>
      (await call(key, 'GET', `/v1/webhooks/${hook.id}`)).json<NewWebhookView>();
    // A success in between starts the count over.
    expect(await deliver(1)).toBe('failed');
    up = true;
    expect(await deliver(2)).toBe('succeeded');
    up = false;
    expect(await deliver(3)).toBe('failed');
    expect((await view()).disabledAt).toBeNull();
    expect(await deliver(4)).toBe('failed');
    const disabled = await view();
    expect(disabled.disabledAt).toEqual(expect.any(String));
    expect(disabled.disabledReason).toBe(
      `disabled after ${DISABLE_AFTER} deliveries in a row failed; the last: HTTP 500`,
    );
    // Disabled: events are not delivered to it.
    const sent = requestsTo('/flapping').length;
    await webhooks.dispatch(tenantId, stateEvent());
    expect(await deliveries(key, hook.id)).toHaveLength(4);
    // Only its tenant may enable it.
    expect((await call(keyGlobex, 'POST', `/v1/webhooks/${hook.id}/enable`)).statusCode).toBe(404);
    up = true;
    const enabled = await call(key, 'POST', `/v1/webhooks/${hook.id}/enable`);
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect(enabled.json()).toMatchObject({ id: hook.id, disabledAt: null, disabledReason: null });
    expect(await deliver(5)).toBe('succeeded');
    expect(requestsTo('/flapping')).toHaveLength(sent + 1);
    // Its count started over: one failure does not disable it again.
    up = false;
    expect(await deliver(6)).toBe('failed');
    expect((await view()).disabledAt).toBeNull();
  });

  it('goes with its tenant: deleting a tenant deletes its webhooks and their log', async () => {
    const key = await h.newKey('short-lived');
    const hook = await register(key, '/tenant-gone');
    const tenantId = await tenantOf('short-lived');
    await webhooks.dispatch(tenantId, stateEvent());
    await settled(key, hook.id);
    await h.db.tenant.delete({ where: { id: tenantId } });
    expect(await h.db.webhook.count({ where: { tenantId } })).toBe(0);
    expect(await h.db.webhookDelivery.count({ where: { tenantId } })).toBe(0);
  });
});

describe('job events', () => {
  it("a job's real state events (queued, cancelled) are delivered", async () => {
    // No training worker from here on: the job stays queued until it is cancelled.
    await delivery.close();
    const connection = createRedis(h.config.redisUrl, 'worker');
    delivery = startWebhookWorker({
      queueName: h.config.queueName,
      connection,
      db: h.db,
      settings: h.config.webhooks,
      fence,
    });
    const webhookWorker = delivery;
    delivery = {
      ...webhookWorker,
      close: async () => {
        await webhookWorker.close();
        connection.disconnect();
      },
    };
    const key = await h.newKey('events-tenant');
    const hook = await register(key, '/job-events');
    const form = multipart('colours.zip', await colourDataset(2));
    const upload = await h.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      payload: form.payload,
      headers: { ...form.headers, authorization: `Bearer ${key}` },
    });
    expect(upload.statusCode, upload.body).toBe(201);
    const job = await call(key, 'POST', '/v1/jobs', {
      datasetId: upload.json<{ id: string }>().id,
    });
    expect(job.statusCode, job.body).toBe(202);
    const jobId = job.json<{ id: string }>().id;
    expect((await call(key, 'POST', `/v1/jobs/${jobId}/cancel`)).statusCode).toBe(202);
    const done = await settled(key, hook.id, 2);
    expect(done.map((d) => [d.eventType, d.jobId, d.status])).toEqual([
      ['state', jobId, 'succeeded'],
      ['state', jobId, 'succeeded'],
    ]);
    const statuses = requestsTo('/job-events').map(
      (r) => (JSON.parse(r.body) as WebhookPayloadView).data,
    );
    expect(statuses.map((e) => (e.type === 'state' ? e.status : e.type)).sort()).toEqual([
      'cancelled',
      'queued',
    ]);
  });
  it("delivers a job's end once however many publish it, and nothing told after it", async () => {
    const { key, tenantId } = await newTenant();
    const hook = await register(key, '/once');
    // A worker and an API replica may both publish a job's end (each from its own view).
    const events = wireJobEvents(h.redis, h.db, h.config);
    const jobId = randomUUID();
    await events.state(tenantId, jobId, { status: 'running' });
    await events.state(tenantId, jobId, { status: 'failed', error: 'lost' });
    await events.state(tenantId, jobId, { status: 'failed', error: 'lost' });
    // A cancel request that lost the race with the worker's end.
    await events.state(tenantId, jobId, { status: 'running', cancelRequested: true });
    const done = await settled(key, hook.id, 2);
    expect(done).toHaveLength(2);
    const told = requestsTo('/once').map((r) => (JSON.parse(r.body) as WebhookPayloadView).data);
    expect(told.map((e) => (e.type === 'state' ? e.status : e.type)).sort()).toEqual([
      'failed',
      'running',
    ]);
  });

  it('delivers the events of two jobs appended in the same millisecond, each once', async () => {
    const { key, tenantId } = await newTenant();
    const hook = await register(key, '/same-ms');
    const events = wireJobEvents(h.redis, h.db, h.config);
    // Stream ids are per job: two appends sent together mostly land in one millisecond.
    let pair: string[] = [];
    for (let i = 0; i < 50 && pair.length === 0; i++) {
      const jobs = [randomUUID(), randomUUID()];
      await Promise.all(jobs.map((jobId) => events.state(tenantId, jobId, { status: 'running' })));
      const ids = await Promise.all(
        jobs.map(async (jobId) => (await h.redis.xrange(jobEventsKey(jobId), '-', '+'))[0]?.[0]),
      );
      if (ids[0] !== undefined && ids[0] === ids[1]) pair = jobs;
    }
    expect(pair, 'no two appends in one millisecond').toHaveLength(2);
    const rows = await h.db.webhookDelivery.findMany({
      where: { webhookId: hook.id, jobId: { in: pair } },
    });
    expect(rows.map((d) => d.jobId).sort()).toEqual([...pair].sort());
    // The same event ids through dispatch: one delivery each, and a repeat queues nothing.
    const [a, b] = [randomUUID(), randomUUID()];
    const at = (jobId: string) => ({ ...stateEvent(), jobId });
    expect(await webhooks.dispatch(tenantId, at(a), `${a}:1764390000000-0`)).toHaveLength(1);
    expect(await webhooks.dispatch(tenantId, at(b), `${b}:1764390000000-0`)).toHaveLength(1);
    expect(await webhooks.dispatch(tenantId, at(b), `${b}:1764390000000-0`)).toEqual([]);
    const done = await settled(key, hook.id, rows.length + 2);
    expect(done.filter((d) => d.jobId === a || d.jobId === b)).toHaveLength(2);
  });

  it("dispatches a finished job's final events no one dispatched from the reaper, once", async () => {
    const { key, tenantId } = await newTenant();
    const finishedAt = new Date(Date.now() - 10 * 60_000);
    const hook = await register(key, '/final');
    // Enabled before the jobs finished; a webhook registered since gets none of their events.
    await h.db.webhook.update({
      where: { id: hook.id },
      data: { enabledAt: new Date(finishedAt.getTime() - 60_000) },
    });
    const late = await register(key, '/final-late');
    const metrics = { kept: 'fineTuned', accuracy: 0.9 };
    const succeeded = await seedJob(
      h.db,
      h.store,
      { status: 'succeeded', finishedAt, metrics },
      tenantId,
    );
    const model = await h.db.model.create({
      data: {
        tenantId,
        jobId: succeeded.jobId,
        baseModel: 'mobilenet_v2',
        labels: ['blue', 'red'],
        inputSize: 224,
        preprocessing: {},
        metrics,
        kept: 'fineTuned',
        keptReason: 'better',
        artifactKey: `models/${randomUUID()}`,
      },
    });
    const failed = await seedJob(
      h.db,
      h.store,
      { status: 'failed', error: 'out of memory', finishedAt },
      tenantId,
    );
    // Finished too long ago: left alone.
    const old = await seedJob(
      h.db,
      h.store,
      { status: 'failed', error: 'old', finishedAt: new Date(Date.now() - 2 * 86_400_000) },
      tenantId,
    );
    await reaperPass();
    const done = await settled(key, hook.id, 3);
    expect(done.every((d) => d.status === 'succeeded')).toBe(true);
    const sent = requestsTo('/final').map((r) => (JSON.parse(r.body) as WebhookPayloadView).data);
    expect(sent).toHaveLength(3);
    expect(sent).toContainEqual({
      type: 'state',
      jobId: succeeded.jobId,
      at: finishedAt.toISOString(),
      status: 'succeeded',
      cancelRequested: false,
      error: null,
      modelId: model.id,
    });
    expect(sent).toContainEqual({
      type: 'report',
      jobId: succeeded.jobId,
      at: finishedAt.toISOString(),
      modelId: model.id,
      metrics,
    });
    expect(sent).toContainEqual(
      expect.objectContaining({ jobId: failed.jobId, status: 'failed', error: 'out of memory' }),
    );
    expect(sent.some((e) => e.jobId === old.jobId)).toBe(false);
    expect(await deliveries(key, late.id)).toEqual([]);
    // Dispatched once: another pass, or the job's own publisher late, sends nothing more.
    await reaperPass();
    const events = wireJobEvents(h.redis, h.db, h.config);
    await events.state(tenantId, failed.jobId, { status: 'failed', error: 'out of memory' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await deliveries(key, hook.id)).toHaveLength(3);
    expect(requestsTo('/final')).toHaveLength(3);
  });

  it('keeps finished deliveries GRAFT_WEBHOOK_LOG_DAYS, then the reaper removes them', async () => {
    const { key, tenantId } = await newTenant();
    const hook = await register(key, '/log');
    await webhooks.dispatch(tenantId, stateEvent('queued'));
    await webhooks.dispatch(tenantId, stateEvent('running'));
    const [recent, old] = await settled(key, hook.id, 2);
    const longAgo = new Date(Date.now() - (h.config.webhooks.logDays + 1) * 86_400_000);
    await h.db.webhookDelivery.update({ where: { id: old!.id }, data: { createdAt: longAgo } });
    expect((await reaperPass()).prunedDeliveries).toBeGreaterThanOrEqual(1);
    expect((await deliveries(key, hook.id)).map((d) => d.id)).toEqual([recent!.id]);
  });
});
