import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { unavailable } from '../../services/domain-error.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Requests this server has received and not finished answering. */
    requestsInFlight(): number;
  }
}

/**
 * Lets `app.close()` drain: from its start, a request that still reaches the server (on a
 * connection opened before) answers 503 problem+json with `Retry-After` instead of being
 * served (Fastify's own answer to these is a bare JSON, so `return503OnClosing` is off), and
 * every answer closes its connection, so the requests in flight finish and nothing new comes.
 * Probes are answered as usual. `requestsInFlight()` tells a bounded stop how many it cuts off.
 */
export const gracefulDrain = fp(
  (app: FastifyInstance) => {
    let inFlight = 0;
    let draining = false;
    app.decorate('requestsInFlight', () => inFlight);
    app.addHook('preClose', async () => {
      draining = true;
    });
    app.addHook('onRequest', async (request, reply) => {
      inFlight += 1;
      reply.raw.once('close', () => (inFlight -= 1));
      if (draining && !request.routeOptions.config.probe) {
        throw unavailable('shutting_down', 'this server is shutting down; retry the request');
      }
    });
    app.addHook('onSend', async (_request, reply) => {
      if (draining) reply.header('connection', 'close');
    });
  },
  { name: 'graceful-drain' },
);
