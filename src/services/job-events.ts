import { randomUUID } from 'node:crypto';
import type {
  JobEpochEventView,
  JobEventView,
  JobProgressEventView,
  JobReportEventView,
  JobStateEventView,
} from '../contracts/job-events.js';
import type { JobStatus, StoredTrainingSummary } from '../contracts/training-summary.js';
import { defaultLogger, type Logger } from '../observability/logger.js';
import { onceMarker, type JobEventStream } from '../queue/job-event-stream.js';

/*
 * What a job tells while it lives (contracts/job-events.ts). `JobEvents` publishes: every
 * place that changes a job's status, after the change is written to PostgreSQL, and the
 * worker's progress. `JobEventsFeed` (job-events-feed.ts) is what `GET /v1/jobs/:id/events`
 * reads. Both go through the job's Redis streams (queue/job-event-stream.ts), never process
 * memory, so any API replica serves any watcher.
 */

/**
 * Told every published event after it was appended (webhooks); its failures are logged.
 * `eventId` names the event once: `<jobId>:<stream id>`, or for an event a job tells once (its
 * terminal state, its report) `<jobId>:final` / `<jobId>:report`, so that a second publication
 * of it (a worker and an API replica both) is recognised as the same event.
 */
export type JobEventListener = (
  tenantId: string,
  event: JobEventView,
  eventId: string,
) => Promise<void>;

export { isFinalStatus } from '../queue/job-event-stream.js';

/** A state change as its event tells it. */
export interface StateChange {
  status: JobStatus;
  cancelRequested?: boolean;
  error?: string | null;
  modelId?: string | null;
}

export function stateEvent(jobId: string, change: StateChange, at = new Date()): JobStateEventView {
  return {
    type: 'state',
    jobId,
    at: at.toISOString(),
    status: change.status,
    cancelRequested: change.cancelRequested ?? change.status === 'cancelled',
    error: change.error ?? null,
    modelId: change.modelId ?? null,
  };
}

/** What `finalEvents` reads of a finished job's row. */
export interface FinishedJobRow {
  id: string;
  status: JobStatus;
  cancelRequested: boolean;
  error: string | null;
  finishedAt: Date | null;
  updatedAt: Date;
  model: { id: string } | null;
  metrics: unknown;
}

/**
 * The events a job tells once, as its row has them: its terminal state, and its report when it
 * succeeded with a model. For those who tell them again (a watcher's replica, the reaper).
 */
export function finalEvents(job: FinishedJobRow): JobEventView[] {
  const at = job.finishedAt ?? job.updatedAt;
  const modelId = job.model?.id ?? null;
  const state = stateEvent(
    job.id,
    { status: job.status, cancelRequested: job.cancelRequested, error: job.error, modelId },
    at,
  );
  if (job.status !== 'succeeded' || !modelId || !job.metrics) return [state];
  const report: JobReportEventView = {
    type: 'report',
    jobId: job.id,
    at: at.toISOString(),
    modelId,
    metrics: job.metrics as StoredTrainingSummary,
  };
  return [state, report];
}

export class JobEvents {
  constructor(
    private readonly stream: JobEventStream,
    private readonly listeners: JobEventListener[] = [],
    private readonly log: Logger = defaultLogger(),
  ) {}

  /**
   * Appends the event to its job's stream, then tells each listener. Never throws: a job's
   * work must not fail because Redis or a listener did (a watcher that missed an append still
   * ends, from the job's row; see `JobEventsFeed`).
   */
  async publish(tenantId: string, event: JobEventView): Promise<void> {
    const { jobId, type } = event;
    let streamId: string | undefined;
    const once = onceMarker(event);
    try {
      streamId = await this.stream.append(jobId, event);
      // Refused as coming after the job's end (a cancel request that lost the race with the
      // worker): no one is told. A repeated once-only event still is: its id makes it a no-op
      // for deliveries made, and it reaches those the first publisher never got to.
      if (streamId === undefined && !once) return;
    } catch (error) {
      this.log.warn({ jobId, tenantId, type, error: String(error) }, 'a job event was not stored');
    }
    // Stream ids are unique per job only: two jobs appending in one millisecond both get <ms>-0.
    const eventId = once ? `${jobId}:${once}` : streamId ? `${jobId}:${streamId}` : randomUUID();
    for (const listener of this.listeners) {
      try {
        await listener(tenantId, event, eventId);
      } catch (error) {
        this.log.warn(
          { jobId, tenantId, type, error: String(error) },
          'a job event listener failed',
        );
      }
    }
  }

  /** A status change that was just written. */
  state(tenantId: string, jobId: string, change: StateChange): Promise<void> {
    return this.publish(tenantId, stateEvent(jobId, change));
  }

  /** A job that succeeded: its `state` event, then its `report`. */
  async succeeded(
    tenantId: string,
    jobId: string,
    modelId: string,
    metrics: StoredTrainingSummary,
  ): Promise<void> {
    await this.state(tenantId, jobId, { status: 'succeeded', modelId });
    await this.publish(tenantId, {
      type: 'report',
      jobId,
      at: new Date().toISOString(),
      modelId,
      metrics,
    });
  }
}

/** The worker's progress as an event (progress-recorder.ts). */
export type ProgressEvent = JobProgressEventView | JobEpochEventView;
