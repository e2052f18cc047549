import { UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { WebhookSettings } from '../config/config.js';
import type { Db } from '../db/prisma-client.js';
import { WebhooksRepository } from '../db/webhooks.repository.js';
import { defaultLogger, type Logger } from '../observability/logger.js';
import { webhookQueueName, type WebhookJobPayload } from '../queue/webhook-queue.js';
import { WebhookDeliverer } from '../services/webhook-delivery.js';
import type { FenceTestOptions } from '../storage/url-fence.js';

/** Deliveries one process attempts at once: each mostly waits on someone else's server. */
const DELIVERY_CONCURRENCY = 8;

export interface WebhookWorkerOptions {
  /** The training queue's name (GRAFT_QUEUE): deliveries have their own queue beside it. */
  queueName: string;
  /** A worker-role connection (retries forever). */
  connection: Redis;
  db: Db;
  settings: Pick<WebhookSettings, 'allowHosts' | 'timeoutMs' | 'attempts' | 'disableAfter'>;
  /** Test-only fence exceptions (a receiver on loopback); never from the environment. */
  fence?: FenceTestOptions;
  logger?: Logger;
}

export interface WebhookWorker {
  worker: Worker<WebhookJobPayload>;
  close(): Promise<void>;
}

/**
 * Attempts queued webhook deliveries in this process. A failed attempt throws, so BullMQ
 * retries it after its exponential backoff (the queue's job options); the row says `failed`
 * once the last attempt failed, or at once when the fence refuses the URL.
 */
export function startWebhookWorker(options: WebhookWorkerOptions): WebhookWorker {
  const log = options.logger ?? defaultLogger();
  const webhooks = new WebhooksRepository(options.db);
  const deliverer = new WebhookDeliverer(webhooks, options.settings, options.fence);
  const worker = new Worker<WebhookJobPayload>(
    webhookQueueName(options.queueName),
    async (job) => {
      const outcome = await deliverer.attempt({
        deliveryId: job.data.deliveryId,
        attempt: job.attemptsMade + 1,
        maxAttempts: job.opts.attempts ?? options.settings.attempts,
      });
      if (outcome.kind !== 'failed') return;
      if (outcome.final) throw new UnrecoverableError(outcome.error);
      throw new Error(outcome.error);
    },
    { connection: options.connection, concurrency: DELIVERY_CONCURRENCY },
  );
  // An attempt that failed is in its row; these lines are for the operator. An attempt that
  // could not even record itself (PostgreSQL down) still ends its row when it was the last.
  worker.on('failed', (job, error) => {
    if (!job) return;
    const last =
      error instanceof UnrecoverableError || job.attemptsMade >= (job.opts.attempts ?? 1);
    // The message only: the row holds the error, and a refusal or an HTTP status has no stack
    // worth reading.
    const line = {
      deliveryId: job.data.deliveryId,
      attempts: job.attemptsMade,
      error: error.message,
    };
    if (!last) return log.info(line, 'webhook delivery attempt failed; retrying');
    log.warn(line, 'webhook delivery failed');
    webhooks
      .giveUp(job.data.deliveryId, job.attemptsMade, error.message, options.settings.disableAfter)
      .catch(() => undefined);
  });
  worker.on('error', (error) => log.error({ err: error }, 'webhook worker error'));
  return { worker, close: () => worker.close() };
}
