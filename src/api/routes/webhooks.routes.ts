import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { WEBHOOK_EVENT_TYPES } from '../../contracts/job-events.js';
import { literals } from '../../contracts/schema-ref.js';
import {
  NewWebhook,
  Webhook,
  WebhookDeliveryPage,
  WebhookPage,
} from '../../contracts/webhook-views.js';
import type { WebhooksService } from '../../services/webhooks.service.js';
import { exampleDelivery, exampleWebhook } from '../examples.js';
import { AUTH_PROBLEMS, json, NoContent, problems } from '../responses.js';
import { IdParams, PageQuery, withDefaults } from '../schemas.js';

const CreateWebhookBody = Type.Object(
  {
    url: Type.String({
      minLength: 1,
      maxLength: 2048,
      description:
        'An https:// URL on a public address, without credentials (the same fence as base-model URLs; an operator may narrow the hosts with GRAFT_WEBHOOK_HOSTS)',
    }),
    events: Type.Optional(
      Type.Array(literals(WEBHOOK_EVENT_TYPES), {
        minItems: 1,
        uniqueItems: true,
        description: 'The job events to deliver; all of them when left out',
      }),
    ),
    description: Type.Optional(Type.String({ maxLength: 500 })),
  },
  { additionalProperties: false },
);

const SIGNATURE_NOTE =
  'Each delivery is a POST of a `WebhookPayload` (application/json) with headers `Graft-Delivery` (its id), `Graft-Event` (`job.state` or `job.report`) and `Graft-Signature: t=<unix seconds>,v1=<hex>`, where the hex is HMAC-SHA256 keyed with the secret over `<t>.<the raw body>`: recompute it, compare in constant time, and refuse old timestamps. A 2xx answer within the timeout is success; anything else (a redirect included) is retried with exponential backoff, and the delivery log says how each ended.';

/** The caller's own tenant's webhooks and their delivery logs. */
export const webhooksRoutes: FastifyPluginAsyncTypebox<{ webhooks: WebhooksService }> = async (
  app,
  { webhooks },
) => {
  app.post(
    '/webhooks',
    {
      schema: {
        operationId: 'createWebhook',
        tags: ['webhooks'],
        summary:
          "Register a URL for your jobs' events; the signing secret is shown in this response only",
        description: SIGNATURE_NOTE,
        body: {
          ...CreateWebhookBody,
          examples: [{ url: exampleWebhook.url, events: ['state', 'report'] }],
        },
        response: {
          201: json(NewWebhook, 'Created: keep `secret`, it is not shown again', {
            ...exampleWebhook,
            secret: 'whsec_q3vT9cW2bL7nR4sY8dF1gH6jK0mP5zAxE2rU4iO6pLk',
          }),
          ...problems(400, 403, 422, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await webhooks.create(request.principal.tenantId, request.body)),
  );

  app.get(
    '/webhooks',
    {
      schema: {
        operationId: 'listWebhooks',
        tags: ['webhooks'],
        summary: "List your tenant's webhooks, newest first (never their secrets)",
        querystring: PageQuery,
        response: {
          200: json(WebhookPage, 'A page', {
            items: [exampleWebhook],
            total: 1,
            limit: 20,
            offset: 0,
          }),
          ...problems(400, ...AUTH_PROBLEMS),
        },
      },
    },
    (request) => webhooks.list(request.principal.tenantId, withDefaults(request.query)),
  );

  app.get(
    '/webhooks/:id',
    {
      schema: {
        operationId: 'getWebhook',
        tags: ['webhooks'],
        summary: 'A webhook: its URL, events and description (never its secret)',
        params: IdParams,
        response: {
          200: json(Webhook, 'The webhook', exampleWebhook),
          ...problems(400, 404, ...AUTH_PROBLEMS),
        },
      },
    },
    (request) => webhooks.get(request.principal.tenantId, request.params.id),
  );

  app.delete(
    '/webhooks/:id',
    {
      schema: {
        operationId: 'deleteWebhook',
        tags: ['webhooks'],
        summary: 'Delete a webhook and its delivery log; retries still queued are not sent',
        params: IdParams,
        response: { 204: NoContent, ...problems(400, 404, ...AUTH_PROBLEMS) },
      },
    },
    async (request, reply) => {
      await webhooks.delete(request.principal.tenantId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/webhooks/:id/enable',
    {
      schema: {
        operationId: 'enableWebhook',
        tags: ['webhooks'],
        summary: 'Enable a webhook again after it was disabled for failing',
        description:
          'A webhook whose deliveries failed GRAFT_WEBHOOK_DISABLE_AFTER times in a row is disabled (`disabledAt`, `disabledReason`): it gets no new deliveries, and its pending ones fail. Fix the endpoint, then enable it: its failure count starts over and events from now on are delivered (those it missed are not). Enabling a webhook that is enabled changes nothing.',
        params: IdParams,
        response: {
          200: json(Webhook, 'The webhook, enabled', exampleWebhook),
          ...problems(400, 404, ...AUTH_PROBLEMS),
        },
      },
    },
    (request) => webhooks.enable(request.principal.tenantId, request.params.id),
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      schema: {
        operationId: 'listWebhookDeliveries',
        tags: ['webhooks'],
        summary: "A webhook's deliveries, newest first: status, attempts, last answer or error",
        description:
          'Each delivery is one event: `pending` while attempts are left, then `succeeded` (a 2xx) or `failed` (after GRAFT_WEBHOOK_ATTEMPTS attempts; at once when the URL is refused, e.g. it resolves to a private address; not sent when the webhook was disabled or your tenant had GRAFT_WEBHOOK_MAX_PENDING deliveries pending, `lastError` says which). `body` is the exact JSON POSTed.',
        params: IdParams,
        querystring: PageQuery,
        response: {
          200: json(WebhookDeliveryPage, 'A page', {
            items: [exampleDelivery],
            total: 1,
            limit: 20,
            offset: 0,
          }),
          ...problems(400, 404, ...AUTH_PROBLEMS),
        },
      },
    },
    (request) =>
      webhooks.deliveries(
        request.principal.tenantId,
        request.params.id,
        withDefaults(request.query),
      ),
  );
};
