/**
 * `npm start`: Graft in one process — API + one training worker — with embedded defaults:
 * DATABASE_URL / REDIS_URL when set, else the local default ports, else an embedded
 * PostgreSQL and a private redis-server. Prints an API key on first start.
 */
import { buildApp } from './api/app.js';
import { loadConfig } from './config/config.js';
import { ApiKeysRepository } from './db/api-keys.repository.js';
import { createDb } from './db/prisma-client.js';
import { createRedis } from './queue/redis-connection.js';
import { createTrainingQueue } from './queue/training-queue.js';
import { bootstrapInfrastructure } from './runtime/bootstrap.js';
import { artifactStoreFor } from './storage/artifact-store.js';
import { startTrainingWorker } from './worker/training-worker.js';

async function main(): Promise<void> {
  const infra = await bootstrapInfrastructure(loadConfig());
  const { config } = infra;
  const db = createDb(config.databaseUrl);
  const keys = new ApiKeysRepository(db);
  if ((await keys.count()) === 0) {
    const { key } = await keys.create('default');
    console.log(
      `\nFirst start: an API key for tenant "default" (shown once, keep it):\n\n  ${key}\n`,
    );
  }
  const redis = createRedis(config.redisUrl, 'queue');
  const queue = createTrainingQueue(config.queueName, redis);
  const worker = await startTrainingWorker(config);
  const app = await buildApp({ config, db, redis, queue, store: artifactStoreFor(config.dataDir) });
  await app.listen({ host: config.host, port: config.port });
  console.log(
    `Graft is up: http://${config.host}:${config.port} (docs at /docs). ${infra.describe}; worker trains on ${worker.backend}.`,
  );

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await app.close();
    await worker.close();
    await queue.close();
    redis.disconnect();
    await db.$disconnect();
    await infra.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  console.error(`graft: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
