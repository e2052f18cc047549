import { join } from 'node:path';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { ApiKeysRepository } from '../db/api-keys.repository.js';
import type { Db } from '../db/prisma-client.js';
import type { DatasetsService } from '../services/datasets.service.js';
import type { JobsService } from '../services/jobs.service.js';
import type { ModelsService } from '../services/models.service.js';
import type { PredictionsService } from '../services/predictions.service.js';
import { documentOptions } from './openapi-options.js';
import { apiKeyAuth } from './plugins/api-key-auth.js';
import { problemErrors } from './plugins/problem-errors.js';
import { datasetsRoutes } from './routes/datasets.routes.js';
import { healthRoutes } from './routes/health.routes.js';
import { jobsRoutes } from './routes/jobs.routes.js';
import { modelsRoutes } from './routes/models.routes.js';
import { predictionsRoutes } from './routes/predictions.routes.js';
import { NAMED_SCHEMAS } from './schemas.js';

/** What the routes call: built once by the composition root. */
export interface ApiServices {
  datasets: DatasetsService;
  jobs: JobsService;
  models: ModelsService;
  predictions: PredictionsService;
  keys: ApiKeysRepository;
}

export interface AppDeps {
  config: Config;
  services: ApiServices;
  /** Probed by /readyz: PostgreSQL, and a fail-fast Redis connection (queue role). */
  health: { db: Db; redis: Redis };
  logger?: boolean;
}

/** The API: external plugins, then ours, then routes. Stateless; run as many as you like. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger === false ? false : { level: deps.config.logLevel },
    bodyLimit: 10 * 1024 ** 2,
    // Refuse unknown fields instead of silently dropping them: a typo in a spec must not
    // train with defaults.
    // strictTypes off: multipart forms are documented by type-less schemas (see multipartForm).
    ajv: { customOptions: { removeAdditional: false, strictTypes: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(multipart, {
    limits: { fileSize: deps.config.maxUploadBytes, files: 1, fields: 10, parts: 12 },
  });
  await app.register(swagger, documentOptions(deps.config));
  await app.register(swaggerUi, { routePrefix: '/docs' });
  for (const schema of NAMED_SCHEMAS) app.addSchema(schema);

  await app.register(problemErrors);
  await app.register(apiKeyAuth, { keys: deps.services.keys });

  await app.register(healthRoutes, deps.health);
  const { services } = deps;
  const tmpDir = join(deps.config.dataDir, 'tmp');
  // Every /v1 route needs an API key: declared once, here.
  await app.register(
    async (v1) => {
      v1.addHook('onRequest', v1.authenticate);
      await v1.register(datasetsRoutes, { datasets: services.datasets, tmpDir });
      await v1.register(jobsRoutes, { jobs: services.jobs });
      await v1.register(modelsRoutes, { models: services.models });
      await v1.register(predictionsRoutes, { predictions: services.predictions });
    },
    { prefix: '/v1' },
  );
  return app;
}
