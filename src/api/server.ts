/** `npm run start:api`: one stateless API replica (no worker, starts no databases). */
import { loadConfig } from '../config/config.js';
import { createDb } from '../db/prisma-client.js';
import { createRedis } from '../queue/redis-connection.js';
import { createTrainingQueue } from '../queue/training-queue.js';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '../runtime/infrastructure.js';
import { artifactStoreFor } from '../storage/artifact-store.js';
import { buildApp } from './app.js';

const config = loadConfig();
const databaseUrl = config.databaseUrl ?? DEFAULT_DATABASE_URL;
const redis = createRedis(config.redisUrl ?? DEFAULT_REDIS_URL, 'queue');
redis.on('error', () => undefined);
const db = createDb(databaseUrl);
const app = await buildApp({
  config,
  db,
  redis,
  queue: createTrainingQueue(config.queueName, redis),
  store: artifactStoreFor(config.dataDir),
});
await app.listen({ host: config.host, port: config.port });
const stop = async () => {
  await app.close();
  redis.disconnect();
  await db.$disconnect();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
