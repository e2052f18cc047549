import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { MetricsSettings } from '../../config/config.js';
import { enableDefaultMetrics, metricsAccess, scrape } from '../../observability/metrics.js';
import { DomainError } from '../../services/domain-error.js';

/**
 * `GET /metrics`: this process's Prometheus metrics (observability/metrics.ts). An operator's
 * endpoint, not the tenants' API: outside /v1, no API key accepted, left out of the OpenAPI
 * document. With GRAFT_METRICS_TOKEN, only `Authorization: Bearer <token>` reads it (401
 * otherwise); with GRAFT_METRICS=open, anyone; by default it answers 404 like a missing route.
 * Like the probes, it is never rate limited and answered while shedding load or draining.
 */
export const metricsRoutes: FastifyPluginAsyncTypebox<{ settings: MetricsSettings }> = async (
  app,
  { settings },
) => {
  if (settings.access !== 'off') enableDefaultMetrics();
  app.get(
    '/metrics',
    { config: { probe: true, rateLimit: false }, schema: { hide: true } },
    async (request, reply) => {
      const access = metricsAccess(settings, request.headers.authorization);
      if (access === 'hidden') return reply.callNotFound();
      if (access === 'unauthorized') {
        reply.header('www-authenticate', 'Bearer realm="graft-metrics"');
        throw new DomainError(
          401,
          'unauthorized',
          'send the metrics token (GRAFT_METRICS_TOKEN) as "Authorization: Bearer <token>"; API keys are not accepted here',
        );
      }
      const { contentType, body } = await scrape();
      return reply.type(contentType).send(body);
    },
  );
};
