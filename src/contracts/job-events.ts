import { Type, type Static } from '@sinclair/typebox';
import { literals, Nullable, ref } from './schema-ref.js';
import { EpochRecord, JOB_STATUSES, STAGES, TrainingSummary } from './training-summary.js';

/*
 * What a job tells while it lives: the events of `GET /v1/jobs/:id/events` (Server-Sent
 * Events, one `event:` name per type below, the JSON as `data:`) and of webhook deliveries.
 * One contract for both; the API document publishes these schemas.
 */

export const JOB_EVENT_TYPES = ['state', 'progress', 'epoch', 'report'] as const;
export type JobEventType = (typeof JOB_EVENT_TYPES)[number];

/** Only these reach webhooks (progress and epochs are for watchers, not for callbacks). */
export const WEBHOOK_EVENT_TYPES = ['state', 'report'] as const satisfies readonly JobEventType[];

const common = {
  jobId: Type.String({ format: 'uuid' }),
  at: Type.String({ format: 'date-time', description: 'When it happened' }),
};

export const JobStateEvent = Type.Object(
  {
    type: Type.Literal('state'),
    ...common,
    status: literals(JOB_STATUSES),
    /** Set when a cancel was asked for a running job (it stops within seconds). */
    cancelRequested: Type.Boolean(),
    error: Nullable(Type.String()),
    modelId: Nullable(Type.String({ format: 'uuid' })),
  },
  {
    $id: 'JobStateEvent',
    description:
      'The job changed status (queued, running, succeeded, failed, cancelled), or a cancel was requested. A job handed back to the queue (a worker stopping) shows `queued` again.',
  },
);

export const JobProgressEvent = Type.Object(
  {
    type: Type.Literal('progress'),
    ...common,
    phase: literals(STAGES),
    /** Whole job, 0..1. */
    progress: Type.Number(),
    epoch: Nullable(Type.Integer()),
    epochs: Nullable(Type.Integer()),
    batch: Type.Integer(),
    batches: Type.Integer(),
    loss: Nullable(Type.Number()),
    accuracy: Nullable(Type.Number()),
    etaSeconds: Nullable(Type.Number()),
  },
  {
    $id: 'JobProgressEvent',
    description:
      'Where training is: phase, epoch, batch, running loss and accuracy, and the estimated seconds left (at most a few per second).',
  },
);

export const JobEpochEvent = Type.Object(
  {
    type: Type.Literal('epoch'),
    ...common,
    record: ref(EpochRecord),
  },
  { $id: 'JobEpochEvent', description: 'An epoch ended: its training and validation metrics' },
);

export const JobReportEvent = Type.Object(
  {
    type: Type.Literal('report'),
    ...common,
    modelId: Type.String({ format: 'uuid' }),
    metrics: ref(TrainingSummary),
  },
  {
    $id: 'JobReportEvent',
    description: "The job succeeded: the model's id and its evaluation report",
  },
);

export const JobEvent = Type.Union(
  [ref(JobStateEvent), ref(JobProgressEvent), ref(JobEpochEvent), ref(JobReportEvent)],
  { $id: 'JobEvent', description: 'One event of a job, told by `type`' },
);

export type JobStateEventView = Static<typeof JobStateEvent>;
export type JobProgressEventView = Static<typeof JobProgressEvent>;
export type JobEpochEventView = Static<typeof JobEpochEvent>;
export type JobReportEventView = Static<typeof JobReportEvent>;
export type JobEventView =
  JobStateEventView | JobProgressEventView | JobEpochEventView | JobReportEventView;

/** Named schemas of this contract, for the API document's components. */
export const JOB_EVENT_SCHEMAS = [
  JobStateEvent,
  JobProgressEvent,
  JobEpochEvent,
  JobReportEvent,
  JobEvent,
];
