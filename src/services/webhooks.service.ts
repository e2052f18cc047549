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
import { enqueueDelivery, type WebhookQueue } from '../queue/webhook-queue.js';
import { checkUrl, UrlRefused } from '../storage/url-fence.js';
import { DomainError, notFound } from './domain-error.js';

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
    private readonly settings: Pick<WebhookSettings, 'allowHosts' | 'maxPerTenant'>,
    private readonly log: Logger = defaultLogger(),
  ) {}

  async create(tenantId: string, input: CreateWebhookInput): Promise<NewWebhookView> {
    const url = this.checkedUrl(input.url);
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

  async deliveries(tenantId: string, id: string, page: { limit: number; offset: number }) {
    await this.get(tenantId, id);
    const [rows, total] = await this.webhooks.deliveries(tenantId, id, page);
    return { items: rows.map(deliveryView), total, ...page };
  }

  /**
   * Records a pending delivery of `event` for each of the tenant's webhooks that takes its type,
   * and queues each (the BullMQ job id is the delivery's). One indexed query when the tenant has
   * none. `eventId` (the event's stream id, when it has one) makes a second publication of the
   * same event a no-op. A delivery Redis would not take is recorded as failed, saying so.
   */
  async dispatch(tenantId: string, event: JobEventView, eventId: string = randomUUID()) {
    if (!isWebhookEventType(event.type)) return;
    const subscribers = await this.webhooks.subscribers(tenantId, event.type);
    if (subscribers.length === 0) return;
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
      };
    });
    await this.webhooks.addDeliveries(deliveries);
    await Promise.all(
      deliveries.map(async ({ id }) => {
        try {
          await enqueueDelivery(this.queue, id);
        } catch (error) {
          this.log.error({ err: error, deliveryId: id, tenantId }, 'webhook delivery not queued');
          await this.webhooks
            .recordAttempt(id, {
              attempts: 0,
              statusCode: null,
              error: 'not sent: the delivery queue (Redis) was unavailable',
              status: 'failed',
            })
            .catch(() => undefined);
        }
      }),
    );
  }

  /** https only, no credentials, an allowed host, not a private address literal: else 422. */
  private checkedUrl(raw: string): string {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new DomainError(422, 'webhook_url_not_allowed', `url '${raw}' is not a URL`);
    }
    try {
      checkUrl(url, { trust: 'tenant', allowHosts: this.settings.allowHosts });
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
