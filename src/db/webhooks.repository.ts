import type { Prisma } from './generated/client.js';
import type { Db } from './prisma-client.js';
import { lockTenant } from './tenants.repository.js';

/** What is shown of a webhook: never its secret. */
const WEBHOOK_FIELDS = {
  id: true,
  url: true,
  events: true,
  description: true,
  createdAt: true,
} as const;

const DELIVERY_FIELDS = {
  id: true,
  eventType: true,
  jobId: true,
  status: true,
  attempts: true,
  lastStatusCode: true,
  lastError: true,
  requestBody: true,
  createdAt: true,
  deliveredAt: true,
} as const;

export type WebhookRow = Prisma.WebhookGetPayload<{ select: typeof WEBHOOK_FIELDS }>;
export type DeliveryRow = Prisma.WebhookDeliveryGetPayload<{ select: typeof DELIVERY_FIELDS }>;

/** A delivery about to be queued: its body is built before the row, so its id is ours. */
export interface NewDelivery {
  id: string;
  webhookId: string;
  tenantId: string;
  jobId: string;
  eventType: string;
  eventId: string;
  requestBody: string;
}

/** What one attempt needs: where, what, and the secret to sign it with. */
export interface DeliveryTarget {
  id: string;
  status: string;
  eventType: string;
  requestBody: string;
  url: string;
  secret: string;
  disabled: boolean;
}

export interface AttemptResult {
  attempts: number;
  statusCode: number | null;
  error: string | null;
  /** The status the row takes: `pending` while retries are left. */
  status: 'pending' | 'succeeded' | 'failed';
}

/** Webhooks of a tenant and their deliveries. Every read and delete is scoped to the tenant. */
export class WebhooksRepository {
  constructor(private readonly db: Db) {}

  /**
   * Inserts a webhook unless the tenant holds `max` already (undefined then, with the count),
   * under the tenant's lock, so two requests cannot both take the last place.
   */
  createWithinLimit(
    data: {
      tenantId: string;
      url: string;
      events: string[];
      secret: string;
      description: string | null;
    },
    max: number,
  ) {
    return this.db.$transaction(async (tx) => {
      await lockTenant(tx, data.tenantId);
      const used = await tx.webhook.count({ where: { tenantId: data.tenantId } });
      if (used >= max) return { used };
      return { webhook: await tx.webhook.create({ data, select: WEBHOOK_FIELDS }) };
    });
  }

  list(tenantId: string, page: { limit: number; offset: number }) {
    return this.db.$transaction([
      this.db.webhook.findMany({
        where: { tenantId },
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        take: page.limit,
        skip: page.offset,
        select: WEBHOOK_FIELDS,
      }),
      this.db.webhook.count({ where: { tenantId } }),
    ]);
  }

  find(tenantId: string, id: string) {
    return this.db.webhook.findFirst({ where: { id, tenantId }, select: WEBHOOK_FIELDS });
  }

  /** False if the tenant has no such webhook. Its deliveries go with it (cascade). */
  async delete(tenantId: string, id: string): Promise<boolean> {
    const { count } = await this.db.webhook.deleteMany({ where: { id, tenantId } });
    return count === 1;
  }

  /** One indexed query per event: the tenant's live webhooks that take this event type. */
  subscribers(tenantId: string, eventType: string) {
    return this.db.webhook.findMany({
      where: { tenantId, disabledAt: null, events: { has: eventType } },
      select: { id: true },
    });
  }

  /** Removes finished deliveries made before `before` (the log's retention); how many. */
  async pruneDeliveries(before: Date): Promise<number> {
    const { count } = await this.db.webhookDelivery.deleteMany({
      where: { createdAt: { lt: before }, status: { not: 'pending' } },
    });
    return count;
  }

  /** Inserts the deliveries; an event already recorded for a webhook is skipped. */
  async addDeliveries(deliveries: NewDelivery[]): Promise<void> {
    await this.db.webhookDelivery.createMany({ data: deliveries, skipDuplicates: true });
  }

  deliveries(tenantId: string, webhookId: string, page: { limit: number; offset: number }) {
    const where = { webhookId, tenantId };
    return this.db.$transaction([
      this.db.webhookDelivery.findMany({
        where,
        orderBy: [{ createdAt: 'desc' }, { id: 'asc' }],
        take: page.limit,
        skip: page.offset,
        select: DELIVERY_FIELDS,
      }),
      this.db.webhookDelivery.count({ where }),
    ]);
  }

  /** Undefined when the delivery is gone (its webhook was deleted). */
  async target(deliveryId: string): Promise<DeliveryTarget | undefined> {
    const row = await this.db.webhookDelivery.findUnique({
      where: { id: deliveryId },
      select: {
        id: true,
        status: true,
        eventType: true,
        requestBody: true,
        webhook: { select: { url: true, secret: true, disabledAt: true } },
      },
    });
    if (!row) return undefined;
    const { webhook, ...delivery } = row;
    return {
      ...delivery,
      url: webhook.url,
      secret: webhook.secret,
      disabled: webhook.disabledAt !== null,
    };
  }

  /** Ends a delivery still pending after its last attempt (one that could not record itself). */
  async giveUp(deliveryId: string, attempts: number, error: string): Promise<void> {
    await this.db.webhookDelivery.updateMany({
      where: { id: deliveryId, status: 'pending' },
      data: { status: 'failed', attempts, lastError: error },
    });
  }

  /** Records one attempt's outcome; a delivery that ended stays as it ended. */
  async recordAttempt(deliveryId: string, result: AttemptResult): Promise<void> {
    await this.db.webhookDelivery.updateMany({
      where: { id: deliveryId, status: 'pending' },
      data: {
        attempts: result.attempts,
        lastStatusCode: result.statusCode,
        lastError: result.error,
        status: result.status,
        ...(result.status === 'succeeded' ? { deliveredAt: new Date() } : {}),
      },
    });
  }
}
