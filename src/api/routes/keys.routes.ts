import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { NewApiKey } from '../../contracts/tenant-views.js';
import type { KeysService } from '../../services/keys.service.js';
import { AUTH_PROBLEMS, json, NoContent, problems } from '../responses.js';
import { IdParams, PageQuery, withDefaults } from '../schemas.js';
import { ApiKeyPage, CreateKeyBody } from '../tenant.schemas.js';

const KEY_ID = '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d';
const exampleKey = {
  id: KEY_ID,
  prefix: 'k3y9x2m4p7q1',
  name: 'ci',
  createdAt: '2026-11-28T10:00:00.000Z',
  lastUsedAt: '2026-11-28T10:05:00.000Z',
  revokedAt: null,
};

/** The caller's own tenant's API keys. */
export const keysRoutes: FastifyPluginAsyncTypebox<{ apiKeys: KeysService }> = async (
  app,
  { apiKeys },
) => {
  app.post(
    '/keys',
    {
      // Every field is optional: a bare POST (no body) creates an unnamed key.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        operationId: 'createKey',
        tags: ['keys'],
        summary: 'Create an API key for your tenant; the key is shown in this response only',
        body: { ...CreateKeyBody, examples: [{ name: 'ci' }] },
        response: {
          201: json(NewApiKey, 'Created: keep `key`, it is not shown again', {
            ...exampleKey,
            lastUsedAt: null,
            key: 'graft_k3y9x2m4p7q1_Xq3vT9cW2bL7nR4sY8dF1gH6jK0mP5zA',
          }),
          ...problems(400, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await apiKeys.create(request.principal.tenantId, request.body.name)),
  );

  app.get(
    '/keys',
    {
      schema: {
        operationId: 'listKeys',
        tags: ['keys'],
        summary: "List your tenant's API keys (prefix, name, created, last used, revoked)",
        querystring: PageQuery,
        response: {
          200: json(ApiKeyPage, 'A page', { items: [exampleKey], total: 1, limit: 20, offset: 0 }),
          ...problems(400, ...AUTH_PROBLEMS),
        },
      },
    },
    (request) => apiKeys.list(request.principal.tenantId, withDefaults(request.query)),
  );

  app.delete(
    '/keys/:id',
    {
      schema: {
        operationId: 'revokeKey',
        tags: ['keys'],
        summary: 'Revoke a key at once: the next request with it is 401 (the key in use too)',
        params: IdParams,
        response: { 204: NoContent, ...problems(400, 404, ...AUTH_PROBLEMS) },
      },
    },
    async (request, reply) => {
      await apiKeys.revoke(request.principal.tenantId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
