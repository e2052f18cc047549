import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

export const REQUEST_ID_HEADER = 'x-request-id';

/** What a client may name its request: 1–128 printable ASCII characters, no spaces. */
const ACCEPTED = /^[\x21-\x7e]{1,128}$/;

/**
 * Fastify's `genReqId`: the client's `X-Request-Id` when it is an acceptable one (a proxy's or
 * caller's trace id carries through), otherwise a new UUID. Every log line of the request
 * carries it (as `requestId`), and so does the job it queues.
 */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && ACCEPTED.test(given) ? given : randomUUID();
}

/** Every answer, problems and 404s included, says which request it answers (`X-Request-Id`). */
export const requestIds = fp(
  (app: FastifyInstance) => {
    app.addHook('onSend', async (request, reply) => {
      reply.header(REQUEST_ID_HEADER, request.id);
    });
  },
  { name: 'request-ids' },
);
