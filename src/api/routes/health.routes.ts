import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Redis } from 'ioredis';
import type { Db } from '../../db/prisma-client.js';
import { liveWorkers } from '../../queue/training-queue.js';
import { exampleReady } from '../examples.js';
import { json, problems } from '../responses.js';
import { Ready } from '../schemas.js';

export interface HealthOptions {
  db: Db;
  redis: Redis;
  /** Whether this process is shedding load (api/plugins/load-shedding.ts). */
  underPressure: () => boolean;
}

const withTimeout = <T>(work: Promise<T>) =>
  Promise.race([
    work,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000).unref()),
  ]);

const answers = (work: Promise<unknown>) =>
  withTimeout(work).then(
    () => true,
    () => false,
  );

export const healthRoutes: FastifyPluginAsyncTypebox<HealthOptions> = async (
  app,
  { db, redis, underPressure },
) => {
  app.get(
    '/healthz',
    {
      // A liveness probe: answered even under pressure, never rate limited (it does nothing).
      config: { probe: true, rateLimit: false },
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
      // Answered under pressure too, with its own 503 body; rate limited per IP like any route.
      config: { probe: true },
      schema: {
        operationId: 'readyz',
        tags: ['health'],
        summary:
          'PostgreSQL and Redis are reachable and this process is not shedding load; counts live workers',
        security: [],
        response: {
          200: json(Ready, 'Ready', exampleReady),
          // A readiness probe, so "not ready" is a 503 with the same body, not a problem.
          503: json(Ready, 'Not ready', {
            ...exampleReady,
            status: 'not_ready',
            redis: false,
            workers: 0,
          }),
          ...problems(400, 429, 500),
        },
      },
    },
    async (_request, reply) => {
      const [postgres, redisUp] = await Promise.all([
        answers(db.$queryRaw`SELECT 1`),
        answers(redis.ping()),
      ]);
      const workers = redisUp ? await withTimeout(liveWorkers(redis)).catch(() => []) : [];
      const pressure = underPressure();
      const ready = postgres && redisUp && !pressure;
      return reply.code(ready ? 200 : 503).send({
        status: ready ? 'ready' : 'not_ready',
        postgres,
        redis: redisUp,
        workers: workers.length,
        underPressure: pressure,
      });
    },
  );
};
