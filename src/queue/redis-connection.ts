import { Redis, type RedisOptions } from 'ioredis';

/**
 * Queue-side connections fail fast (an API request must not hang on a dead Redis); worker
 * connections must retry forever, as BullMQ requires (`maxRetriesPerRequest: null`).
 */
export function createRedis(url: string, role: 'queue' | 'worker'): Redis {
  const options: RedisOptions =
    role === 'queue'
      ? { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 5000 }
      : { maxRetriesPerRequest: null };
  return new Redis(url, { ...options, lazyConnect: false });
}
