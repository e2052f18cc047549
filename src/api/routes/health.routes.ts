import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Redis } from 'ioredis';
import type { Db } from '../../db/prisma-client.js';
import { liveWorkers } from '../../queue/training-queue.js';
import { exampleReady } from '../examples.js';
import { json, problems } from '../responses.js';
import { Ready } from '../schemas.js';

export const healthRoutes: FastifyPluginAsyncTypebox<{ db: Db; redis: Redis }> = async (
  app,
  { db, redis },
) => {
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'healthz',
        tags: ['health'],
        summary: 'The process is up',
        security: [],
        response: {
          200: json(Type.Object({ status: Type.Literal('ok') }), 'Up', { status: 'ok' }),
          ...problems(400, 500),
        },
      },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'readyz',
        tags: ['health'],
        summary: 'PostgreSQL and Redis are reachable; lists live workers and their tfjs backends',
        security: [],
        response: {
          200: json(Ready, 'Ready', exampleReady),
          // A readiness probe, so "not ready" is a 503 with the same body, not a problem.
          503: json(Ready, 'Not ready', {
            ...exampleReady,
            status: 'not_ready',
            redis: false,
            workers: [],
          }),
          ...problems(400, 500),
        },
      },
    },
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
