import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { JobsService } from '../../services/jobs.service.js';
import { exampleCreateJob, exampleJob } from '../examples.js';
import { AUTH_PROBLEMS, json, problems } from '../responses.js';
import { Job } from '../../contracts/resource-views.js';
import { CreateJobBody, IdParams, JobPage, PageQuery, withDefaults } from '../schemas.js';

export const jobsRoutes: FastifyPluginAsyncTypebox<{ jobs: JobsService }> = async (
  app,
  { jobs },
) => {
  app.post(
    '/jobs',
    {
      schema: {
        operationId: 'createJob',
        tags: ['jobs'],
        summary: 'Submit a training job',
        description:
          'The dataset and a training spec; every spec field is optional and the job shows the spec with defaults filled in. Unknown fields are refused.',
        body: { ...CreateJobBody, examples: [exampleCreateJob] },
        response: {
          202: json(Job, 'Queued', { ...exampleJob, status: 'queued', metrics: null }),
          ...problems(400, 403, 422, 429, 503, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const { tenantId } = request.principal;
      const job = await jobs.create(tenantId, request.body, request.id);
      // The line that ties this request to the job: the worker's lines carry both ids too.
      request.log.info({ jobId: job.id, tenantId }, 'training job queued');
      return reply.code(202).send(job);
    },
  );

  app.get(
    '/jobs',
    {
      schema: {
        operationId: 'listJobs',
        tags: ['jobs'],
        summary: 'List jobs, newest first',
        querystring: PageQuery,
        response: {
          200: json(JobPage, 'A page', { items: [exampleJob], total: 1, limit: 20, offset: 0 }),
          ...problems(400, ...AUTH_PROBLEMS),
        },
      },
    },
    (request) => jobs.list(request.principal.tenantId, withDefaults(request.query)),
  );

  app.get(
    '/jobs/:id',
    {
      schema: {
        operationId: 'getJob',
        tags: ['jobs'],
        summary: "A job's status, progress, per-epoch history and metrics",
        params: IdParams,
        response: {
          200: json(Job, 'The job', exampleJob),
          ...problems(400, 404, ...AUTH_PROBLEMS),
        },
      },
    },
    (request) => jobs.get(request.principal.tenantId, request.params.id),
  );

  app.post(
    '/jobs/:id/cancel',
    {
      schema: {
        operationId: 'cancelJob',
        tags: ['jobs'],
        summary: 'Cancel a queued job at once, or a running one within seconds',
        params: IdParams,
        response: {
          202: json(Job, 'Cancelled or cancelling', {
            ...exampleJob,
            status: 'cancelled',
            cancelRequested: true,
            metrics: null,
            modelId: null,
          }),
          ...problems(400, 404, 409, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await jobs.cancel(request.principal.tenantId, request.params.id)),
  );
};
