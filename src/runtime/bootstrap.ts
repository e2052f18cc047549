import type { Config } from '../config/config.js';
import { applyMigrations, ensurePostgres, ensureRedis } from './infrastructure.js';

export interface Infrastructure {
  config: Config & { databaseUrl: string; redisUrl: string };
  stop: () => Promise<void>;
  describe: string;
}

/**
 * Finds Postgres and Redis (configured, on default ports, or started embedded), applies
 * migrations, and exports the URLs to the environment so sandboxed workers inherit them.
 */
export async function bootstrapInfrastructure(config: Config): Promise<Infrastructure> {
  const postgres = await ensurePostgres(config.databaseUrl, config.dataDir);
  const redis = await ensureRedis(config.redisUrl, config.dataDir).catch(async (error: unknown) => {
    await postgres.stop?.();
    throw error;
  });
  process.env.DATABASE_URL = postgres.url;
  process.env.REDIS_URL = redis.url;
  await applyMigrations(postgres.url);
  return {
    config: { ...config, databaseUrl: postgres.url, redisUrl: redis.url },
    describe: `PostgreSQL: ${postgres.source} (${postgres.url.replace(/:[^:@/]*@/, ':***@')}${postgres.dataDir ? `, data in ${postgres.dataDir}` : ''}), Redis: ${redis.source} (${redis.url})`,
    stop: async () => {
      await redis.stop?.();
      await postgres.stop?.();
    },
  };
}
