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
  disabledAt: true,
  disabledReason: true,
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
/** A finished job whose final events some webhook of its tenant has no delivery of. */
export type UndeliveredJob = Awaited<
  ReturnType<WebhooksRepository['undeliveredFinalEvents']>
>[number];

/** A delivery about to be queued: its body is built before the row, so its id is ours. */
export interface NewDelivery {
  id: string;
  webhookId: string;
  tenantId: string;
  jobId: string;
  eventType: string;
  eventId: string;
  requestBody: string;
  /** `failed` (with `lastError`) for a delivery refused before it was queued. */
  status?: 'pending' | 'failed';
  lastError?: string;
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

/** The last error of deliveries a disabled webhook will not send. */
export const DISABLED_ERROR = 'not sent: the webhook is disabled';

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

  /**
   * One indexed query per event: the tenant's live webhooks that take this event type (those
   * enabled by `enabledBy` only, when given).
   */
  subscribers(tenantId: string, eventType: string, enabledBy?: Date) {
    return this.db.webhook.findMany({
      where: {
        tenantId,
        disabledAt: null,
        events: { has: eventType },
        ...(enabledBy ? { enabledAt: { lte: enabledBy } } : {}),
      },
      select: { id: true },
    });
  }

  /** Deliveries of the tenant still pending (GRAFT_WEBHOOK_MAX_PENDING), counted up to `upTo`. */
  async pendingCount(tenantId: string, upTo: number): Promise<number> {
    const rows = await this.db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM (
        SELECT 1 FROM "WebhookDelivery"
        WHERE "tenantId" = ${tenantId}::uuid AND "status" = 'pending'
        LIMIT ${upTo}
      ) AS pending`;
    return rows[0]?.n ?? 0;
  }

  /** Removes finished deliveries made before `before` (the log's retention); how many. */
  async pruneDeliveries(before: Date): Promise<number> {
    // Finished is `succeeded` or `failed`: both ranges of the (status, createdAt) index.
    const { count } = await this.db.webhookDelivery.deleteMany({
      where: { createdAt: { lt: before }, status: { in: ['succeeded', 'failed'] } },
    });
    return count;
  }

  /**
   * Inserts the deliveries; an event already recorded for a webhook is skipped. Returns the
   * rows inserted (only those may be queued).
   */
  async addDeliveries(deliveries: NewDelivery[]): Promise<{ id: string; status: string }[]> {
    return this.db.webhookDelivery.createManyAndReturn({
      data: deliveries,
      skipDuplicates: true,
      select: { id: true, status: true },
    });
  }

  /** Pending deliveries made before `before`, oldest first: the reaper checks their queue entries. */
  /** Pending deliveries made before `before`, oldest first, after `after` (a page's last). */
  pendingBefore(before: Date, take: number, after?: { id: string; createdAt: Date }) {
    return this.db.webhookDelivery.findMany({
      where: {
        status: 'pending',
        createdAt: { lt: before },
        ...(after
          ? {
              OR: [
                { createdAt: { gt: after.createdAt } },
                { createdAt: after.createdAt, id: { gt: after.id } },
              ],
            }
          : {}),
      },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      take,
      select: { id: true, createdAt: true },
    });
  }

  /** Tenants with a live webhook: one query, and none to follow when there is none. */
  async tenantsWithWebhooks(): Promise<string[]> {
    const rows = await this.db.webhook.findMany({
      where: { disabledAt: null },
      distinct: ['tenantId'],
      select: { tenantId: true },
    });
    return rows.map((row) => row.tenantId);
  }

  /**
   * Jobs of `tenantIds` that finished within [since, before) and whose terminal state (or
   * report, for a job that succeeded with a model) some live webhook of their tenant, enabled
   * by then and taking that event, has no delivery of: `<jobId>:final` / `<jobId>:report`.
   * Oldest first, at most `take`.
   */
  async undeliveredFinalEvents(
    tenantIds: string[],
    window: { since: Date; before: Date },
    take: number,
  ) {
    if (tenantIds.length === 0) return [];
    const ids = await this.db.$queryRaw<{ id: string }[]>`
      SELECT j."id"::text AS id FROM "TrainingJob" j
      WHERE j."tenantId" = ANY(${tenantIds}::uuid[])
        AND j."status" IN ('succeeded', 'failed', 'cancelled')
        AND j."finishedAt" >= ${window.since} AND j."finishedAt" < ${window.before}
        AND EXISTS (
          SELECT 1 FROM "Webhook" w
          WHERE w."tenantId" = j."tenantId" AND w."disabledAt" IS NULL
            AND w."enabledAt" <= j."finishedAt"
            AND (
              ('state' = ANY(w."events") AND NOT EXISTS (
                SELECT 1 FROM "WebhookDelivery" d
                WHERE d."webhookId" = w."id" AND d."eventId" = j."id"::text || ':final'))
              OR (j."status" = 'succeeded' AND j."metrics" IS NOT NULL
                AND EXISTS (SELECT 1 FROM "Model" m WHERE m."jobId" = j."id")
                AND 'report' = ANY(w."events") AND NOT EXISTS (
                  SELECT 1 FROM "WebhookDelivery" d
                  WHERE d."webhookId" = w."id" AND d."eventId" = j."id"::text || ':report'))
            )
        )
      ORDER BY j."finishedAt"
      LIMIT ${take}`;
    if (ids.length === 0) return [];
    return this.db.trainingJob.findMany({
      where: { id: { in: ids.map((row) => row.id) } },
      orderBy: { finishedAt: 'asc' },
      select: {
        id: true,
        tenantId: true,
        status: true,
        cancelRequested: true,
        error: true,
        finishedAt: true,
        updatedAt: true,
        metrics: true,
        model: { select: { id: true } },
      },
    });
  }

  /**
   * Enables a tenant's webhook again: its failure count starts over, and the final events of
   * jobs that finished while it was disabled are not sent. Undefined if the tenant has no such
   * webhook.
   */
  async enable(tenantId: string, id: string) {
    await this.db.webhook.updateMany({
      where: { id, tenantId, disabledAt: { not: null } },
      data: {
        disabledAt: null,
        disabledReason: null,
        consecutiveFailures: 0,
        enabledAt: new Date(),
      },
    });
    return this.find(tenantId, id);
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
        webhookId: true,
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

  /**
   * Ends a delivery still pending after its last attempt (one that could not record itself),
   * counting the failure against its webhook as `recordAttempt` does.
   */
  async giveUp(
    deliveryId: string,
    attempts: number,
    error: string,
    disableAfter = Infinity,
  ): Promise<void> {
    await this.recordAttempt(
      deliveryId,
      { attempts, statusCode: null, error, status: 'failed' },
      disableAfter,
      { keepStatusCode: true },
    );
  }

  /**
   * Records one attempt's outcome; a delivery that ended stays as it ended. A delivery that
   * ends counts for its webhook: a success clears its failures in a row, a failure adds one, and
   * the `disableAfter`th disables the webhook (its pending deliveries fail, saying so). True
   * when this call disabled it.
   */
  async recordAttempt(
    deliveryId: string,
    result: AttemptResult,
    disableAfter = Infinity,
    options: { keepStatusCode?: boolean } = {},
  ): Promise<boolean> {
    const { count } = await this.db.webhookDelivery.updateMany({
      where: { id: deliveryId, status: 'pending' },
      data: {
        attempts: result.attempts,
        ...(options.keepStatusCode ? {} : { lastStatusCode: result.statusCode }),
        lastError: result.error,
        status: result.status,
        ...(result.status === 'succeeded' ? { deliveredAt: new Date() } : {}),
      },
    });
    if (count === 0 || result.status === 'pending') return false;
    const delivery = await this.db.webhookDelivery.findUnique({
      where: { id: deliveryId },
      select: { webhookId: true },
    });
    if (!delivery) return false;
    const { webhookId } = delivery;
    if (result.status === 'succeeded') {
      await this.db.webhook.updateMany({
        where: { id: webhookId, consecutiveFailures: { gt: 0 } },
        data: { consecutiveFailures: 0 },
      });
      return false;
    }
    // One statement each, so that deliveries ending together on several workers all count and
    // only one of them disables.
    const [hook] = await this.db.webhook.updateManyAndReturn({
      where: { id: webhookId },
      data: { consecutiveFailures: { increment: 1 } },
      select: { consecutiveFailures: true, disabledAt: true },
    });
    if (!hook || hook.disabledAt || hook.consecutiveFailures < disableAfter) return false;
    const disabled = await this.db.webhook.updateMany({
      where: { id: webhookId, disabledAt: null },
      data: {
        disabledAt: new Date(),
        disabledReason: `disabled after ${hook.consecutiveFailures} deliveries in a row failed; the last: ${result.error ?? 'failed'}`,
      },
    });
    if (disabled.count === 0) return false;
    await this.db.webhookDelivery.updateMany({
      where: { webhookId, status: 'pending' },
      data: { status: 'failed', lastError: DISABLED_ERROR },
    });
    return true;
  }

  /** Ends a delivery its webhook, disabled, will not send (not counted as a failure). */
  async dropDisabled(deliveryId: string): Promise<void> {
    await this.db.webhookDelivery.updateMany({
      where: { id: deliveryId, status: 'pending' },
      data: { status: 'failed', lastError: DISABLED_ERROR },
    });
  }

  /** Notes on a pending delivery why it is not queued yet (the reaper queues it later). */
  async notQueued(deliveryId: string, error: string): Promise<void> {
    await this.db.webhookDelivery.updateMany({
      where: { id: deliveryId, status: 'pending' },
      data: { lastError: error },
    });
  }
}
