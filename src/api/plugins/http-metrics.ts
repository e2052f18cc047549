import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { httpRequestDuration } from '../../observability/metrics.js';

/**
 * Times every answered request into graft_http_request_duration_seconds, by method, route
 * pattern (`/v1/models/:id/predict`, never the URL: ids would make a series each) and status.
 * Requests that matched no route share `route="unmatched"`.
 */
export const httpMetrics = fp(
  (app: FastifyInstance) => {
    app.addHook('onResponse', async (request, reply) => {
      httpRequestDuration.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    });
  },
  { name: 'http-metrics' },
);
