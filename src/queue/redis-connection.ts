import { Redis, type RedisOptions } from 'ioredis';

/** How long a command on an events connection may take before it fails. */
export const EVENTS_COMMAND_TIMEOUT_MS = 3000;

/**
 * Queue-side connections fail fast (an API request must not hang on a dead Redis); worker
 * connections must retry forever, as BullMQ requires (`maxRetriesPerRequest: null`). An
 * events connection (a worker's or sandboxed processor's job events, queue/job-event-stream.ts)
 * fails fast too, and bounds every command: a slow or silent Redis must not hold up a run, which
 * publishes on it and then records its result.
 */
export function createRedis(url: string, role: 'queue' | 'worker' | 'events'): Redis {
  const failFast: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
  };
  const options: RedisOptions =
    role === 'queue'
      ? failFast
      : role === 'events'
        ? { ...failFast, commandTimeout: EVENTS_COMMAND_TIMEOUT_MS }
        : { maxRetriesPerRequest: null };
  const redis = new Redis(url, { ...options, lazyConnect: false });
  // A failed publish is logged by its publisher; the connection's events are not news.
  if (role === 'events') redis.on('error', () => undefined);
  return redis;
}

/**
 * Resolves once the connection is ready, or after `ms` whatever it is: a connection without
 * an offline queue refuses commands until it is ready.
 */
export async function whenReady(redis: Redis, ms = 5000): Promise<void> {
  if (redis.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  let ready: (() => void) | undefined;
  await new Promise<void>((resolve) => {
    ready = resolve;
    redis.once('ready', resolve);
    timer = setTimeout(resolve, ms);
  });
  clearTimeout(timer);
  if (ready) redis.off('ready', ready);
}

/** Closes a connection, waiting for its replies at most `ms`. */
export async function closeRedis(redis: Redis, ms = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.quit().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
  redis.disconnect();
}
