import underPressure from '@fastify/under-pressure';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { AdmissionSettings } from '../../config/config.js';
import { DomainError } from '../../services/domain-error.js';
import { busy, type Places } from '../../services/predictions.service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A load balancer's probe: answered even while the process sheds load. */
    probe?: boolean;
    /**
     * A bounded number of places for the route's requests, one taken by each as it arrives
     * (before auth and any lookup) and given back when its answer is gone: with none left, 503
     * at once, for the price of a counter.
     */
    places?: Places;
  }
}

/** What a client shed for pressure is told to wait: pressure is sampled every second. */
const PRESSURE_RETRY_AFTER_S = 10;

/**
 * Sheds load before it piles up: while the event loop lags, or the heap or RSS is over its
 * limit, every route but the probes answers 503 problem+json with `Retry-After`, and /readyz
 * says not ready (so a load balancer sends traffic elsewhere) until the process recovers. A
 * route with `config.places` sheds what finds no place left.
 */
export const loadShedding = fp(
  async (app: FastifyInstance, settings: AdmissionSettings) => {
    await app.register(underPressure, {
      maxEventLoopDelay: settings.maxEventLoopDelayMs,
      maxHeapUsedBytes: settings.maxHeapUsedBytes,
      maxRssBytes: settings.maxRssBytes,
      pressureHandler: (request) =>
        request.routeOptions.config.probe
          ? undefined
          : Promise.reject(
              new DomainError(503, 'overloaded', 'this server is overloaded; retry later', {
                retryAfterSeconds: PRESSURE_RETRY_AFTER_S,
              }),
            ),
    });
    app.addHook('onRequest', async (request, reply) => {
      const { places } = request.routeOptions.config;
      if (!places) return;
      if (!places.tryTake()) throw busy('this server is answering as many of these as it can');
      reply.raw.once('close', () => places.give());
    });
  },
  { name: 'load-shedding' },
);

/**
 * The request has arrived in full: from here its handler's own bounds apply, not the idle
 * timeout (GRAFT_IDLE_TIMEOUT_MS), which is for clients that stall while sending. Ingesting a
 * big zip, or waiting for the inference thread, may be silent for longer.
 */
export function bodyReceived(request: FastifyRequest): void {
  // An injected request's socket is a stand-in without timeouts.
  const socket: { setTimeout?: (ms: number) => unknown } = request.raw.socket;
  socket.setTimeout?.(0);
}
