import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { ApiKeysRepository } from '../db/api-keys.repository.js';
import type { Db } from '../db/prisma-client.js';
import type { TrainingQueue } from '../queue/training-queue.js';
import { DatasetsService } from '../services/datasets.service.js';
import { JobsService } from '../services/jobs.service.js';
import { ModelsService } from '../services/models.service.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { apiKeyAuth } from './plugins/api-key-auth.js';
import { problemErrors } from './plugins/problem-errors.js';
import { datasetsRoutes } from './routes/datasets.routes.js';
import { healthRoutes } from './routes/health.routes.js';
import { jobsRoutes } from './routes/jobs.routes.js';
import { modelsRoutes } from './routes/models.routes.js';
import { predictionsRoutes } from './routes/predictions.routes.js';
import { InferenceService } from '../inference/inference.service.js';
import { PredictionsService } from '../services/predictions.service.js';

export interface AppDeps {
  config: Config;
  db: Db;
  /** A fail-fast connection (queue role). */
  redis: Redis;
  queue: TrainingQueue;
  store: ArtifactStore;
  logger?: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** "METHOD /path" of every API route (OpenAPI path syntax), for the docs check. */
    apiRoutes: string[];
  }
}

export const OPENAPI_PATH = fileURLToPath(new URL('../../openapi.yaml', import.meta.url));

/** The API: external plugins, then ours, then routes. Stateless; run as many as you like. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger === false ? false : { level: deps.config.logLevel },
    bodyLimit: 10 * 1024 ** 2,
    // Refuse unknown fields instead of silently dropping them: a typo in a spec must not
    // train with defaults.
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  const apiRoutes: string[] = [];
  app.decorate('apiRoutes', apiRoutes);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) return;
    const path = route.url.replace(/:(\w+)/g, '{$1}');
    for (const method of [route.method].flat())
      if (method !== 'HEAD') apiRoutes.push(`${method} ${path}`);
  });

  await app.register(multipart, {
    limits: { fileSize: deps.config.maxUploadBytes, files: 1, fields: 10, parts: 12 },
  });
  await app.register(swagger, {
    mode: 'static',
    specification: { path: OPENAPI_PATH, baseDir: join(OPENAPI_PATH, '..') },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(problemErrors);
  await app.register(apiKeyAuth, { keys: new ApiKeysRepository(deps.db) });

  await app.register(healthRoutes, { db: deps.db, redis: deps.redis });
  const tmpDir = join(deps.config.dataDir, 'tmp');
  await app.register(datasetsRoutes, {
    prefix: '/v1',
    datasets: new DatasetsService(deps.db, deps.store, deps.config),
    tmpDir,
  });
  await app.register(jobsRoutes, { prefix: '/v1', jobs: new JobsService(deps.db, deps.queue) });
  await app.register(modelsRoutes, { prefix: '/v1', models: new ModelsService(deps.db) });
  const inference = new InferenceService(deps.config, {
    cacheBytes: deps.config.inferenceCacheBytes,
    maxBatch: deps.config.inferenceMaxBatch,
  });
  app.addHook('onClose', () => inference.close());
  await app.register(predictionsRoutes, {
    prefix: '/v1',
    predictions: new PredictionsService(deps.db, deps.store, inference),
  });
  return app;
}
