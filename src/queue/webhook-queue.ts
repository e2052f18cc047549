import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

/** A delivery to attempt: everything else is in its row (WebhookDelivery). */
export interface WebhookJobPayload {
  deliveryId: string;
}

export const DELIVER_JOB_NAME = 'deliver';

export type WebhookQueue = Queue<WebhookJobPayload>;

/** Deliveries have a queue of their own, beside the training queue `queueName` (GRAFT_QUEUE). */
export const webhookQueueName = (queueName: string): string => `${queueName}-webhooks`;

export interface DeliveryRetries {
  /** Tries in all, the first included. */
  attempts: number;
  /** The wait before the first retry, doubled after each. */
  backoffMs: number;
}

export function createWebhookQueue(
  queueName: string,
  connection: Redis,
  retries: DeliveryRetries,
): WebhookQueue {
  const queue = new Queue<WebhookJobPayload>(webhookQueueName(queueName), {
    connection,
    defaultJobOptions: {
      attempts: retries.attempts,
      backoff: { type: 'exponential', delay: retries.backoffMs },
      // The rows keep the history; Redis keeps only a little.
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 1000 },
    },
  });
  // The connection is shared (its owner hears its errors); a dead Redis fails `add`, which
  // the dispatcher records on the delivery.
  queue.on('error', () => undefined);
  return queue;
}

/** The BullMQ job id is the delivery's id, so a delivery is never queued twice. */
export async function enqueueDelivery(queue: WebhookQueue, deliveryId: string): Promise<void> {
  await queue.add(DELIVER_JOB_NAME, { deliveryId }, { jobId: deliveryId });
}
