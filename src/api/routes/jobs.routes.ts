import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { JobsService } from '../../services/jobs.service.js';
import { authErrors, CreateJobBody, IdParams, Job, page, PageQuery, Problem } from '../schemas.js';

export const jobsRoutes: FastifyPluginAsyncTypebox<{ jobs: JobsService }> = async (
  app,
  { jobs },
) => {
  app.addHook('onRequest', app.authenticate);

  app.post(
    '/jobs',
    {
      schema: {
        body: CreateJobBody,
        response: { 202: Job, 400: Problem, 422: Problem, 503: Problem, ...authErrors },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await jobs.create(request.principal.tenantId, request.body)),
  );

  app.get(
    '/jobs',
    { schema: { querystring: PageQuery, response: { 200: page(Job), ...authErrors } } },
    (request) => jobs.list(request.principal.tenantId, request.query),
  );

  app.get(
    '/jobs/:id',
    { schema: { params: IdParams, response: { 200: Job, ...authErrors } } },
    (request) => jobs.get(request.principal.tenantId, request.params.id),
  );

  app.post(
    '/jobs/:id/cancel',
    { schema: { params: IdParams, response: { 202: Job, 409: Problem, ...authErrors } } },
    async (request, reply) =>
      reply.code(202).send(await jobs.cancel(request.principal.tenantId, request.params.id)),
  );
};
