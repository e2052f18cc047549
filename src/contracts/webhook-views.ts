import { Type, type Static } from '@sinclair/typebox';
import { JobReportEvent, JobStateEvent, WEBHOOK_EVENT_TYPES } from './job-events.js';
import { literals, Nullable, pageOf, ref } from './schema-ref.js';

/* What the API shows a tenant of its webhooks and of their deliveries. */

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const DELIVERY_STATUSES = ['pending', 'succeeded', 'failed'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** The `type` of a delivery's body and its `Graft-Event` header, for a job event's type. */
export const deliveryType = (eventType: WebhookEventType): string => `job.${eventType}`;

export const Webhook = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    url: Type.String({ format: 'uri' }),
    events: Type.Array(literals(WEBHOOK_EVENT_TYPES), {
      description: 'The job events delivered: `state` (status changes), `report` (a job succeeded)',
    }),
    description: Nullable(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    disabledAt: Nullable(
      Type.String({
        format: 'date-time',
        description:
          'When deliveries stopped: set after GRAFT_WEBHOOK_DISABLE_AFTER deliveries in a row failed; `POST /v1/webhooks/{id}/enable` clears it',
      }),
    ),
    disabledReason: Nullable(
      Type.String({ description: 'Why it was disabled, with the last error; null while enabled' }),
    ),
  },
  { $id: 'Webhook', description: 'A URL your job events are POSTed to (never its secret)' },
);

export const NewWebhook = Type.Object(
  {
    ...Webhook.properties,
    secret: Type.String({
      description:
        'Signs every delivery (`Graft-Signature`, HMAC-SHA256): shown in this response only, keep it',
    }),
  },
  { $id: 'NewWebhook', description: 'A new webhook, with its signing secret shown once' },
);

export const WebhookDelivery = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: "Also the body's `id` and `Graft-Delivery`" }),
    eventType: literals(WEBHOOK_EVENT_TYPES),
    jobId: Type.String({ format: 'uuid' }),
    status: literals(DELIVERY_STATUSES, {
      description:
        '`pending` until an attempt gets a 2xx (`succeeded`) or the attempts run out (`failed`)',
    }),
    attempts: Type.Integer({ description: 'Attempts made so far' }),
    lastStatusCode: Nullable(
      Type.Integer({ description: 'HTTP status of the last attempt; null if none answered' }),
    ),
    lastError: Nullable(
      Type.String({ description: 'Why the last attempt failed (a status, a timeout, a refusal)' }),
    ),
    body: Type.String({ description: 'The exact JSON POSTed on every attempt' }),
    createdAt: Type.String({ format: 'date-time' }),
    deliveredAt: Nullable(Type.String({ format: 'date-time' })),
  },
  {
    $id: 'WebhookDelivery',
    description: 'One event sent to one webhook, retried with backoff until it succeeds or fails',
  },
);

export const WebhookPayload = Type.Object(
  {
    id: Type.String({ format: 'uuid', description: 'The delivery: the same on every retry' }),
    type: literals(WEBHOOK_EVENT_TYPES.map(deliveryType) as ['job.state', 'job.report'], {
      description: "`job.` and the event's type; also the `Graft-Event` header",
    }),
    createdAt: Type.String({ format: 'date-time', description: 'When the delivery was made' }),
    data: Type.Union([ref(JobStateEvent), ref(JobReportEvent)]),
  },
  {
    $id: 'WebhookPayload',
    description:
      'What each delivery POSTs (application/json), with `Graft-Delivery`, `Graft-Event` and `Graft-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>` headers',
  },
);

export const WebhookPage = pageOf(Webhook, 'WebhookPage', 'A page of webhooks, newest first');

export const WebhookDeliveryPage = pageOf(
  WebhookDelivery,
  'WebhookDeliveryPage',
  'A page of deliveries, newest first',
);

export type WebhookPayloadView = Static<typeof WebhookPayload>;
export type WebhookView = Static<typeof Webhook>;
export type NewWebhookView = Static<typeof NewWebhook>;
export type WebhookDeliveryView = Static<typeof WebhookDelivery>;

/** Named schemas of these views, for the API document's components. */
export const WEBHOOK_VIEW_SCHEMAS = [
  Webhook,
  NewWebhook,
  WebhookDelivery,
  WebhookPayload,
  WebhookPage,
  WebhookDeliveryPage,
];
