import type { SwaggerOptions } from '@fastify/swagger';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * A request body the handler reads and checks itself (a streamed form, or JSON whose
     * errors it words): documented from here, never validated or coerced by Ajv.
     */
    documentedBody?: { content: Record<string, { schema: unknown }> };
  }
}

/** The document's frame; paths and schemas come from the routes. */
export function documentOptions(): SwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Graft API',
        version: '1.0.0',
        description: [
          'Self-hosted transfer learning for image classifiers. Upload a labelled dataset (zip),',
          'submit a training job, poll it, and use the resulting model.',
          'Every /v1 route needs `Authorization: Bearer <API key>` (`npm run keys:create -- --tenant <name>`).',
          'Errors are `application/problem+json` (RFC 9457) with a stable `code`.',
        ].join(' '),
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // Relative: the server that serves the document (and the snapshot matches every install).
      servers: [{ url: '/', description: 'This server' }],
      security: [{ apiKey: [] }],
      tags: [
        { name: 'datasets', description: 'Labelled image datasets: upload, inspect, delete' },
        { name: 'jobs', description: 'Training jobs: submit, poll, cancel' },
        {
          name: 'models',
          description: 'Trained models: evaluate, predict, export; the base-model catalog',
        },
        { name: 'keys', description: "Your tenant's API keys: create (shown once), list, revoke" },
        { name: 'usage', description: "Your tenant's quotas: limits and current use" },
        {
          name: 'webhooks',
          description:
            "URLs your jobs' events are POSTed to, signed with a secret shown once; each delivery's attempts are logged",
        },
        { name: 'health', description: 'Liveness and readiness probes (no API key)' },
      ],
      // What Graft POSTs to a registered webhook (OpenAPI 3.1 `webhooks`).
      webhooks: {
        jobEvent: {
          post: {
            operationId: 'receiveJobEvent',
            tags: ['webhooks'],
            summary: "A job's state change or report, POSTed to each of your webhooks",
            description:
              'Verify `Graft-Signature` before trusting the body: recompute HMAC-SHA256 over `<t>.<raw body>` with the secret shown when the webhook was made, compare in constant time, and refuse timestamps older than a few minutes. Answer 2xx within 10 s; anything else is retried with exponential backoff (GRAFT_WEBHOOK_ATTEMPTS), and every attempt shows in `GET /v1/webhooks/{id}/deliveries`.',
            security: [],
            parameters: [
              {
                name: 'Graft-Signature',
                in: 'header',
                required: true,
                description: '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`',
                schema: { type: 'string' },
              },
              {
                name: 'Graft-Event',
                in: 'header',
                required: true,
                description: '`job.state` or `job.report`',
                schema: { type: 'string' },
              },
              {
                name: 'Graft-Delivery',
                in: 'header',
                required: true,
                description: 'The delivery id: the same on every retry (deduplicate on it)',
                schema: { type: 'string', format: 'uuid' },
              },
            ],
            requestBody: {
              required: true,
              content: {
                'application/json': { schema: { $ref: '#/components/schemas/WebhookPayload' } },
              },
            },
            responses: { '2XX': { description: 'Received; any other answer is retried' } },
          },
        },
      },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key of your tenant' },
        },
      },
    },
    transform: ({ schema, url, route }) => ({
      schema: route.config?.documentedBody
        ? { ...schema, body: route.config.documentedBody }
        : schema,
      url,
    }),
    // Named schemas keep their names under components.schemas.
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  };
}
