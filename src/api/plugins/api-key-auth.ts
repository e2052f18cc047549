import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiKeysRepository, Principal } from '../../db/api-keys.repository.js';
import { DomainError } from '../../services/domain-error.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyInstance {
    authenticate: (request: FastifyRequest) => Promise<void>;
  }
}

/** `Authorization: Bearer <key>`; used as a route-level onRequest hook on every /v1 route. */
export const apiKeyAuth = fp(
  (app: FastifyInstance, options: { keys: ApiKeysRepository }) => {
    app.decorateRequest('principal', null as unknown as Principal);
    app.decorate('authenticate', async (request: FastifyRequest) => {
      const header = request.headers.authorization ?? '';
      const match = /^Bearer\s+(\S+)$/i.exec(header);
      if (!match)
        throw new DomainError(
          401,
          'unauthorized',
          'send your API key as "Authorization: Bearer <key>"',
        );
      const principal = await options.keys.authenticate(match[1]!);
      if (!principal) throw new DomainError(401, 'unauthorized', 'this API key is not valid');
      request.principal = principal;
    });
  },
  { name: 'api-key-auth' },
);
