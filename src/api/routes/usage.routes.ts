import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Usage, type UsageView } from '../../contracts/tenant-views.js';
import type { QuotasService } from '../../services/quotas.service.js';
import { AUTH_PROBLEMS, json, problems } from '../responses.js';

const use = (limit: number, used: number | null, own = false) => ({ limit, used, own });
const exampleUsage: UsageView = {
  tenant: 'acme',
  quotas: {
    datasets: use(100, 3),
    storedBytes: use(10 * 1024 ** 3, 58_720_256),
    imagesPerDataset: use(50_000, null),
    concurrentJobs: use(2, 1),
    queuedJobs: use(20, 4),
    epochsPerPhase: use(200, null),
    wallSeconds: use(7200, null),
    models: use(250, 12, true),
  },
  rateLimits: {
    default: { max: 100, windowSeconds: 10, own: false },
    uploads: { max: 10, windowSeconds: 60, own: false },
    jobs: { max: 30, windowSeconds: 60, own: false },
    predict: { max: 600, windowSeconds: 10, own: true },
    thumbnails: { max: 1000, windowSeconds: 10, own: false },
  },
};

/** What the caller's tenant uses of each quota, and its limits. */
export const usageRoutes: FastifyPluginAsyncTypebox<{ quotas: QuotasService }> = async (
  app,
  { quotas },
) => {
  app.get(
    '/usage',
    {
      schema: {
        operationId: 'getUsage',
        tags: ['usage'],
        summary: "Your tenant's use and limits, for every quota and rate limit",
        description:
          'Stock quotas (datasets, storedBytes, models, queuedJobs, concurrentJobs) show current use; limits on one dataset or one job (imagesPerDataset, epochsPerPhase, wallSeconds) show `used: null`. Over a quota, requests answer `quota_exceeded`: 403 for datasets, storedBytes and models, 413 for imagesPerDataset, 422 for epochsPerPhase, 429 for queuedJobs. `rateLimits` gives the requests your tenant may make per window, all its API keys together (`RateLimit-*` headers on every answer say what is left); over one, requests answer 429 `rate_limited` with `Retry-After`.',
        response: {
          200: json(Usage, 'Use and limits', exampleUsage),
          ...problems(...AUTH_PROBLEMS),
        },
      },
    },
    (request) => quotas.usage(request.principal.tenantId, request.principal.tenantName),
  );
};
