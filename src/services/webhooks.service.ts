import { randomBytes, randomUUID } from 'node:crypto';
import type { WebhookSettings } from '../config/config.js';
import { WEBHOOK_EVENT_TYPES, type JobEventView } from '../contracts/job-events.js';
import {
  deliveryType,
  type NewWebhookView,
  type WebhookDeliveryView,
  type WebhookEventType,
  type WebhookPayloadView,
  type WebhookView,
} from '../contracts/webhook-views.js';
import type {
  DeliveryRow,
  NewDelivery,
  WebhookRow,
  WebhooksRepository,
} from '../db/webhooks.repository.js';
import { defaultLogger, type Logger } from '../observability/logger.js';
import { onceMarker } from '../queue/job-event-stream.js';
import { enqueueDelivery, type WebhookQueue } from '../queue/webhook-queue.js';
import { checkUrlNow, UrlRefused, type FenceTestOptions } from '../storage/url-fence.js';
import { DomainError, notFound } from './domain-error.js';
import { finalEvents } from './job-events.js';

const iso = (date: Date | null) => date?.toISOString() ?? null;

export const isWebhookEventType = (type: string): type is WebhookEventType =>
  (WEBHOOK_EVENT_TYPES as readonly string[]).includes(type);

export function webhookView(row: WebhookRow): WebhookView {
  return {
    id: row.id,
    url: row.url,
    events: row.events.filter(isWebhookEventType),
    description: row.description,
    createdAt: row.createdAt.toISOString(),
    disabledAt: iso(row.disabledAt),
    disabledReason: row.disabledReason,
  };
}

export function deliveryView(row: DeliveryRow): WebhookDeliveryView {
  return {
    id: row.id,
    eventType: isWebhookEventType(row.eventType) ? row.eventType : 'state',
    jobId: row.jobId,
    status: row.status as WebhookDeliveryView['status'],
    attempts: row.attempts,
    lastStatusCode: row.lastStatusCode,
    lastError: row.lastError,
    body: row.requestBody,
    createdAt: row.createdAt.toISOString(),
    deliveredAt: iso(row.deliveredAt),
  };
}

/** The last error of a delivery refused because its tenant has GRAFT_WEBHOOK_MAX_PENDING pending. */
export const TOO_MANY_PENDING =
  'not sent: too many pending deliveries for this tenant (GRAFT_WEBHOOK_MAX_PENDING); your endpoints answer too slowly or not at all';

/** The last error of a pending delivery Redis would not queue (the reaper queues it later). */
export const NOT_QUEUED =
  'not queued yet: the delivery queue (Redis) was unavailable; it is queued again within minutes';

/** `whsec_` and 32 random bytes: the HMAC key of every delivery to one webhook. */
const newSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

export interface CreateWebhookInput {
  url: string;
  events?: WebhookEventType[];
  description?: string;
}

/**
 * A tenant's webhooks: registration (its URL checked against the same fence as base-model
 * URLs), listing, deletion, the delivery log, and `dispatch`, which records and queues a
 * delivery of a job event to each webhook that takes it. The worker's webhook-worker.ts POSTs
 * them (webhook-delivery.ts).
 */
export class WebhooksService {
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly queue: WebhookQueue,
    private readonly settings: Pick<
      WebhookSettings,
      'allowHosts' | 'maxPerTenant' | 'maxPending' | 'disableAfter'
    >,
    private readonly log: Logger = defaultLogger(),
    /** Test-only exceptions to the fence (a receiver on loopback); never from the environment. */
    private readonly fence: FenceTestOptions = {},
  ) {}

  /** Where `requeueLost` goes on from (the last pending delivery it looked at). */
  private lostCursor: { id: string; createdAt: Date } | undefined;

  async create(tenantId: string, input: CreateWebhookInput): Promise<NewWebhookView> {
    const url = await this.checkedUrl(input.url);
    const events = [...new Set(input.events ?? WEBHOOK_EVENT_TYPES)];
    if (events.length === 0) {
      throw new DomainError(
        422,
        'no_events',
        `events is empty: name at least one of ${WEBHOOK_EVENT_TYPES.join(', ')}, or leave it out for all`,
      );
    }
    const description = input.description?.trim() || null;
    const secret = newSecret();
    const max = this.settings.maxPerTenant;
    const created = await this.webhooks.createWithinLimit(
      { tenantId, url, events, secret, description },
      max,
    );
    if (!created.webhook) {
      throw new DomainError(
        403,
        'quota_exceeded',
        `quota webhooks: you have ${created.used} webhook(s) and asked for 1 more; the limit is ${max} (delete one first)`,
        { quota: 'webhooks', limit: max, used: created.used, requested: 1 },
      );
    }
    return { ...webhookView(created.webhook), secret };
  }

  async list(tenantId: string, page: { limit: number; offset: number }) {
    const [rows, total] = await this.webhooks.list(tenantId, page);
    return { items: rows.map(webhookView), total, ...page };
  }

  /** Another tenant's webhook is as unknown as one that never existed. */
  async get(tenantId: string, id: string): Promise<WebhookView> {
    const row = await this.webhooks.find(tenantId, id);
    if (!row) throw notFound('webhook', id);
    return webhookView(row);
  }

  /** Deliveries still queued find no row and are dropped: nothing more is sent. */
  async delete(tenantId: string, id: string): Promise<void> {
    if (!(await this.webhooks.delete(tenantId, id))) throw notFound('webhook', id);
  }

  /**
   * Enables a webhook again (one disabled after GRAFT_WEBHOOK_DISABLE_AFTER failures in a row):
   * its failure count starts over, and events from now on are delivered (none of those it
   * missed). An enabled webhook is left as it is.
   */
  async enable(tenantId: string, id: string): Promise<WebhookView> {
    const row = await this.webhooks.enable(tenantId, id);
    if (!row) throw notFound('webhook', id);
    return webhookView(row);
  }

  async deliveries(tenantId: string, id: string, page: { limit: number; offset: number }) {
    await this.get(tenantId, id);
    const [rows, total] = await this.webhooks.deliveries(tenantId, id, page);
    return { items: rows.map(deliveryView), total, ...page };
  }

  /**
   * Records a pending delivery of `event` for each of the tenant's webhooks that takes its type
   * (enabled by `enabledBy`, when given), and queues each (the BullMQ job id is the delivery's).
   * One indexed query when the tenant has none. `eventId` (`<jobId>:<stream id>`, or
   * `<jobId>:final` / `<jobId>:report` for the events a job tells once) makes a second
   * publication of the same event a no-op: only rows actually inserted are queued. A delivery
   * Redis would not take stays pending, saying so, and the workers' reaper queues it later.
   * Past GRAFT_WEBHOOK_MAX_PENDING pending deliveries of the tenant, new ones are recorded
   * failed instead. Returns the ids of the pending deliveries recorded.
   */
  async dispatch(
    tenantId: string,
    event: JobEventView,
    eventId: string = randomUUID(),
    options: { enabledBy?: Date } = {},
  ): Promise<string[]> {
    if (!isWebhookEventType(event.type)) return [];
    const subscribers = await this.webhooks.subscribers(tenantId, event.type, options.enabledBy);
    if (subscribers.length === 0) return [];
    const max = this.settings.maxPending;
    const full = (await this.webhooks.pendingCount(tenantId, max)) >= max;
    const createdAt = new Date().toISOString();
    const type = deliveryType(event.type);
    const deliveries: NewDelivery[] = subscribers.map(({ id: webhookId }) => {
      const id = randomUUID();
      const body = { id, type, createdAt, data: event } as WebhookPayloadView;
      return {
        id,
        webhookId,
        tenantId,
        jobId: event.jobId,
        eventType: event.type,
        eventId,
        requestBody: JSON.stringify(body),
        ...(full ? { status: 'failed' as const, lastError: TOO_MANY_PENDING } : {}),
      };
    });
    const added = await this.webhooks.addDeliveries(deliveries);
    if (full && added.length > 0) {
      this.log.warn(
        { tenantId, max, jobId: event.jobId },
        'webhook deliveries refused: too many pending',
      );
    }
    const pending = added.filter((row) => row.status === 'pending').map((row) => row.id);
    await Promise.all(
      pending.map(async (id) => {
        try {
          await enqueueDelivery(this.queue, id);
        } catch (error) {
          this.log.error({ err: error, deliveryId: id, tenantId }, 'webhook delivery not queued');
          await this.webhooks.notQueued(id, NOT_QUEUED).catch(() => undefined);
        }
      }),
    );
    return pending;
  }

  /**
   * Records and queues the final events (terminal state, report) of jobs that finished within
   * the window and that a webhook of their tenant, enabled by then, has no delivery of: the
   * publisher died between the job's end and its dispatch, or Redis or PostgreSQL failed it.
   * Dispatch is idempotent (`<jobId>:final` / `<jobId>:report`), so racing the publisher or
   * another reaper sends nothing twice. One query when no tenant has a webhook. Returns the
   * deliveries recorded.
   */
  async redispatchFinalEvents(window: { since: Date; before: Date }, take: number) {
    const tenants = await this.webhooks.tenantsWithWebhooks();
    if (tenants.length === 0) return 0;
    const jobs = await this.webhooks.undeliveredFinalEvents(tenants, window, take);
    let recorded = 0;
    for (const job of jobs) {
      const enabledBy = job.finishedAt ?? job.updatedAt;
      for (const event of finalEvents(job)) {
        const eventId = `${job.id}:${onceMarker(event)}`;
        recorded += (await this.dispatch(job.tenantId, event, eventId, { enabledBy })).length;
      }
    }
    return recorded;
  }

  /**
   * Queues again the pending deliveries made before `before` (at most `take` per call, oldest
   * first, each call going on from where the last stopped, then from the start again: many
   * deliveries legitimately waiting for a retry never hide a lost one behind them) that no
   * queue entry will attempt: never queued (Redis was away), or Redis lost the entry. One whose
   * entry failed for good while its row could not be written is failed. Returns how many were
   * queued again.
   */
  async requeueLost(before: Date, take: number): Promise<number> {
    const rows = await this.webhooks.pendingBefore(before, take, this.lostCursor);
    this.lostCursor = rows.length === take ? rows.at(-1) : undefined;
    // One round trip: ioredis pipelines the calls made together.
    const states = await Promise.all(rows.map(({ id }) => this.queue.getJobState(id)));
    let requeued = 0;
    for (const [i, { id }] of rows.entries()) {
      const state = states[i] ?? 'unknown';
      if (state === 'failed') {
        const job = await this.queue.getJob(id);
        await this.webhooks.giveUp(
          id,
          job?.attemptsMade ?? 0,
          job?.failedReason ?? 'failed',
          this.settings.disableAfter,
        );
        continue;
      }
      if (state !== 'unknown' && state !== 'completed') continue;
      // A finished entry under the delivery's id would make the add a no-op.
      if (state === 'completed') await this.queue.remove(id);
      await enqueueDelivery(this.queue, id);
      requeued++;
    }
    return requeued;
  }

  /** https only, no credentials, an allowed host, not a private address literal: else 422. */
  private async checkedUrl(raw: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new DomainError(422, 'webhook_url_not_allowed', `url '${raw}' is not a URL`);
    }
    try {
      // Its addresses too: a name of a private address is refused now, not at its first delivery.
      await checkUrlNow(url, {
        ...this.fence,
        trust: 'tenant',
        allowHosts: this.settings.allowHosts,
      });
    } catch (error) {
      if (!(error instanceof UrlRefused)) throw error;
      throw new DomainError(
        422,
        'webhook_url_not_allowed',
        `url ${url.href} is not allowed: ${error.message} (webhooks take https:// URLs without credentials, on public addresses${this.settings.allowHosts.includes('*') ? '' : `, naming these hosts: ${this.settings.allowHosts.join(', ')}`})`,
        { reason: error.reason },
      );
    }
    return url.href;
  }
}
