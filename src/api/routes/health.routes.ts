import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Redis } from 'ioredis';
import type { Db } from '../../db/prisma-client.js';
import { liveWorkers } from '../../queue/training-queue.js';

const Ready = Type.Object({
  status: Type.Union([Type.Literal('ready'), Type.Literal('not_ready')]),
  postgres: Type.Boolean(),
  redis: Type.Boolean(),
  workers: Type.Array(
    Type.Object({
      id: Type.String(),
      backend: Type.String(),
      concurrency: Type.Integer(),
      seenAt: Type.String(),
    }),
  ),
});

export const healthRoutes: FastifyPluginAsyncTypebox<{ db: Db; redis: Redis }> = async (
  app,
  { db, redis },
) => {
  app.get(
    '/healthz',
    { schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    { schema: { response: { 200: Ready, 503: Ready } } },
    async (_request, reply) => {
      const withTimeout = <T>(work: Promise<T>) =>
        Promise.race([
          work,
          new Promise<never>((_, reject) =>
            setTimeout(() => reject(new Error('timeout')), 2000).unref(),
          ),
        ]);
      const postgres = await withTimeout(db.$queryRaw`SELECT 1`).then(
        () => true,
        () => false,
      );
      const redisUp = await withTimeout(redis.ping()).then(
        () => true,
        () => false,
      );
      const workers = redisUp ? await liveWorkers(redis).catch(() => []) : [];
      const ready = postgres && redisUp;
      return reply
        .code(ready ? 200 : 503)
        .send({ status: ready ? 'ready' : 'not_ready', postgres, redis: redisUp, workers });
    },
  );
};
