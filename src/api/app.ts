import { join } from 'node:path';
import { removeOldFiles } from '../storage/temp-files.js';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { ApiKeysRepository } from '../db/api-keys.repository.js';
import type { Db } from '../db/prisma-client.js';
import type { DatasetImagesService } from '../services/dataset-images.service.js';
import type { DatasetsService } from '../services/datasets.service.js';
import type { JobsService } from '../services/jobs.service.js';
import type { JobEventsFeed } from '../services/job-events-feed.js';
import type { ModelsService } from '../services/models.service.js';
import type { PredictionsService } from '../services/predictions.service.js';
import type { TenantServices } from '../services/quotas.service.js';
import type { WebhooksService } from '../services/webhooks.service.js';
import { documentOptions } from './openapi-options.js';
import { apiKeyAuth } from './plugins/api-key-auth.js';
import { consoleUi } from './plugins/console.js';
import { gracefulDrain } from './plugins/graceful-drain.js';
import { httpMetrics } from './plugins/http-metrics.js';
import { loadShedding } from './plugins/load-shedding.js';
import { problemErrors } from './plugins/problem-errors.js';
import { rateLimits, type LimitsFor } from './plugins/rate-limits.js';
import { requestIdOf, requestIds } from './plugins/request-ids.js';
import { datasetImagesRoutes } from './routes/dataset-images.routes.js';
import { datasetsRoutes } from './routes/datasets.routes.js';
import { healthRoutes } from './routes/health.routes.js';
import { metricsRoutes } from './routes/metrics.routes.js';
import { jobsRoutes } from './routes/jobs.routes.js';
import { jobEventsRoutes } from './routes/job-events.routes.js';
import { modelsRoutes } from './routes/models.routes.js';
import { keysRoutes } from './routes/keys.routes.js';
import { predictionsRoutes } from './routes/predictions.routes.js';
import { usageRoutes } from './routes/usage.routes.js';
import { webhooksRoutes } from './routes/webhooks.routes.js';
import { NAMED_SCHEMAS } from './schemas.js';

/** What the routes call: built once by the composition root. */
export interface ApiServices extends TenantServices {
  datasets: DatasetsService;
  datasetImages: DatasetImagesService;
  jobs: JobsService;
  /** `GET /v1/jobs/:id/events`: each job's events, live. */
  jobEvents: JobEventsFeed;
  models: ModelsService;
  predictions: PredictionsService;
  keys: ApiKeysRepository;
  webhooks: WebhooksService;
}

export interface AppDeps {
  config: Config;
  services: ApiServices;
  /**
   * Probed by /readyz: PostgreSQL, and a fail-fast Redis connection (queue role), which also
   * holds the rate-limit counters every replica shares.
   */
  health: { db: Db; redis: Redis };
  /** A tenant's own rate limits (briefly cached); without it, every tenant has the defaults. */
  limitsFor?: LimitsFor;
  logger?: boolean;
}

/** Believes the `hops` nearest proxies (proxy-addr's hop count). */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

/** The API: external plugins, then ours, then routes. Stateless; run as many as you like. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    logger: deps.logger === false ? false : { level: deps.config.logLevel },
    // The client's X-Request-Id when acceptable, else a new one; every log line carries it.
    requestIdHeader: false,
    genReqId: requestIdOf,
    logController: new LogController({ requestIdLogLabel: 'requestId' }),
    bodyLimit: 10 * 1024 ** 2,
    // Refuse unknown fields instead of silently dropping them: a typo in a spec must not
    // train with defaults.
    ajv: { customOptions: { removeAdditional: false } },
    // A stalled client (an upload that stops sending) is dropped, not waited on forever.
    connectionTimeout: deps.config.admission.idleTimeoutMs,
    requestTimeout: deps.config.admission.requestTimeoutMs,
    // While closing, late requests get our problem+json 503 (api/plugins/graceful-drain.ts).
    return503OnClosing: false,
    // Behind a load balancer, the client's address (per-address rate limits) is in X-Forwarded-For.
    trustProxy:
      typeof deps.config.trustProxy === 'number'
        ? trustHops(deps.config.trustProxy)
        : deps.config.trustProxy,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // First, so that every route (/docs included) and every answer gets them.
  await app.register(requestIds);
  await app.register(httpMetrics);
  await app.register(multipart, {
    limits: { fileSize: deps.config.maxUploadBytes, files: 1, fields: 10, parts: 12 },
  });
  await app.register(swagger, documentOptions());
  await app.register(swaggerUi, { routePrefix: '/docs' });
  for (const schema of NAMED_SCHEMAS) app.addSchema(schema);

  await app.register(problemErrors);
  await app.register(gracefulDrain);
  await app.register(apiKeyAuth, { keys: deps.services.keys });
  await app.register(loadShedding, deps.config.admission);
  if (deps.config.rateLimits) {
    await app.register(rateLimits, {
      redis: deps.health.redis,
      limits: deps.config.rateLimits,
      ...(deps.limitsFor ? { limitsFor: deps.limitsFor } : {}),
    });
  }

  await app.register(healthRoutes, { ...deps.health, underPressure: () => app.isUnderPressure() });
  await app.register(metricsRoutes, { settings: deps.config.metrics });
  // The web console's files (no key needed for them; its data calls carry one).
  await app.register(consoleUi);
  const { services } = deps;
  const tmpDir = join(deps.config.dataDir, 'tmp');
  // Each replica sweeps its own upload temp folder (the zip of an upload whose request died
  // with its process); a worker's reaper sweeps the worker's.
  const { reaperIntervalMs, orphanAgeMs } = deps.config.recovery;
  const sweep = setInterval(() => {
    removeOldFiles(tmpDir, new Date(Date.now() - orphanAgeMs)).catch((error: unknown) =>
      app.log.warn({ err: error }, 'sweeping upload temp files failed'),
    );
  }, reaperIntervalMs);
  sweep.unref();
  app.addHook('onClose', () => clearInterval(sweep));
  // Every /v1 route needs an API key: declared once, here.
  await app.register(
    async (v1) => {
      v1.addHook('onRequest', v1.authenticate);
      await v1.register(datasetsRoutes, { datasets: services.datasets, tmpDir });
      await v1.register(datasetImagesRoutes, { datasetImages: services.datasetImages });
      await v1.register(jobsRoutes, { jobs: services.jobs });
      await v1.register(jobEventsRoutes, { feed: services.jobEvents });
      await v1.register(modelsRoutes, { models: services.models });
      await v1.register(predictionsRoutes, { predictions: services.predictions });
      await v1.register(keysRoutes, { apiKeys: services.apiKeys });
      await v1.register(usageRoutes, { quotas: services.quotas });
      await v1.register(webhooksRoutes, { webhooks: services.webhooks });
    },
    { prefix: '/v1' },
  );
  return app;
}
