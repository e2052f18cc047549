import { randomUUID } from 'node:crypto';
import type {
  JobEpochEventView,
  JobEventView,
  JobProgressEventView,
  JobStateEventView,
} from '../contracts/job-events.js';
import type { JobStatus, StoredTrainingSummary } from '../contracts/training-summary.js';
import type { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import { defaultLogger, type Logger } from '../observability/logger.js';
import {
  onceMarker,
  STREAM_ID,
  type JobEventFollower,
  type JobEventStream,
  type StoredJobEvent,
} from '../queue/job-event-stream.js';
import { DomainError, notFound, unavailable } from './domain-error.js';

/*
 * What a job tells while it lives (contracts/job-events.ts). `JobEvents` publishes: every
 * place that changes a job's status, after the change is written to PostgreSQL, and the
 * worker's progress. `JobEventsFeed` is what `GET /v1/jobs/:id/events` reads. Both go through
 * the job's Redis stream (queue/job-event-stream.ts), never process memory, so any API
 * replica serves any watcher.
 */

/**
 * Told every published event after it was appended (webhooks); its failures are logged.
 * `eventId` names the event once: its stream id, or for an event a job tells once (its terminal
 * state, its report) `<jobId>:final` / `<jobId>:report`, so that a second publication of it (a
 * worker and an API replica both) is recognised as the same event.
 */
export type JobEventListener = (
  tenantId: string,
  event: JobEventView,
  eventId: string,
) => Promise<void>;

const FINAL: ReadonlySet<string> = new Set<JobStatus>(['succeeded', 'failed', 'cancelled']);

export const isFinalStatus = (status: string) => FINAL.has(status);

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
    try {
      streamId = await this.stream.append(jobId, event);
    } catch (error) {
      this.log.warn({ jobId, tenantId, type, error: String(error) }, 'a job event was not stored');
    }
    const once = onceMarker(event);
    const eventId = once ? `${jobId}:${once}` : (streamId ?? randomUUID());
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

/** What a watcher is sent: an event, or a keep-alive comment after a quiet period. */
export type FeedItem = StoredJobEvent | 'heartbeat';

export interface JobWatch {
  /**
   * The job's events after the watcher's last one (from the start without it), then the live
   * ones; ends once the job's final events were sent, or when closed.
   */
  items(): AsyncGenerator<FeedItem>;
  /** Stops following and lets its Redis connection go; safe to call again. */
  close(): void;
}

export interface JobEventsFeedOptions {
  /** A watcher that heard nothing for this long gets a heartbeat (and the job is looked at). */
  heartbeatMs?: number;
  /** Streams one replica follows at once (503 beyond). */
  maxWatchers?: number;
  /** Streams one tenant follows on one replica at once (429 beyond). */
  maxWatchersPerTenant?: number;
}

/** Read this many events at a time. */
const PAGE = 500;
const RETRY_AFTER_S = 5;

type JobRow = NonNullable<Awaited<ReturnType<TrainingJobsRepository['find']>>>;

/** The last event of a job's stream: its terminal state (its report after `succeeded`). */
const endsStream = ({ event }: StoredJobEvent) =>
  event.type === 'report' ||
  (event.type === 'state' && isFinalStatus(event.status) && event.status !== 'succeeded');

export const eventsUnavailable = (cause?: unknown) => {
  const error = unavailable(
    'events_unavailable',
    "the job's events (Redis) are unavailable; try again shortly",
  );
  if (cause !== undefined) error.cause = cause;
  return error;
};

/**
 * Serves job event streams to watchers, each following its job's Redis stream on a connection
 * of its own (a blocking read holds one), within per-replica and per-tenant caps.
 */
export class JobEventsFeed {
  private readonly heartbeatMs: number;
  private readonly maxWatchers: number;
  private readonly maxPerTenant: number;
  private readonly watching = new Set<() => void>();
  private readonly perTenant = new Map<string, number>();

  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly stream: JobEventStream,
    options: JobEventsFeedOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.maxWatchers = options.maxWatchers ?? 500;
    this.maxPerTenant = options.maxWatchersPerTenant ?? 20;
  }

  /** Streams followed now on this replica. */
  get watchers(): number {
    return this.watching.size;
  }

  /**
   * Opens a watch of a tenant's job after `lastEventId`, or returns undefined when the job is
   * finished and nothing came after it. Everything that can refuse (400, 404, 429, 503) does
   * so here, before anything is sent.
   */
  async watch(
    tenantId: string,
    jobId: string,
    lastEventId?: string,
  ): Promise<JobWatch | undefined> {
    if (lastEventId !== undefined && !STREAM_ID.test(lastEventId)) {
      throw new DomainError(
        400,
        'invalid_last_event_id',
        `Last-Event-ID '${lastEventId.slice(0, 64)}' is not an event id of this API (like 1764390000000-0)`,
      );
    }
    const row = await this.jobs.find(tenantId, jobId);
    if (!row) throw notFound('job', jobId);
    const release = this.admit(tenantId);
    try {
      return await this.open(tenantId, row, lastEventId, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Ends every open watch (the API is closing: its watchers reconnect to another replica). */
  closeAll(): void {
    for (const close of [...this.watching]) close();
  }

  private admit(tenantId: string): () => void {
    const own = this.perTenant.get(tenantId) ?? 0;
    if (own >= this.maxPerTenant) {
      throw new DomainError(
        429,
        'too_many_event_streams',
        `your tenant follows ${own} job event streams on this server, the most it may at once; close one or retry later`,
        { limit: this.maxPerTenant, retryAfterSeconds: RETRY_AFTER_S },
      );
    }
    if (this.watching.size >= this.maxWatchers) {
      throw unavailable(
        'too_many_event_streams',
        'this server follows as many job event streams as it can; retry shortly',
        RETRY_AFTER_S,
      );
    }
    this.perTenant.set(tenantId, own + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.perTenant.get(tenantId) ?? 1) - 1;
      if (left > 0) this.perTenant.set(tenantId, left);
      else this.perTenant.delete(tenantId);
    };
  }

  private async open(
    tenantId: string,
    row: JobRow,
    lastEventId: string | undefined,
    release: () => void,
  ): Promise<JobWatch | undefined> {
    const jobId = row.id;
    const finished = isFinalStatus(row.status);
    let first: StoredJobEvent[];
    let follower: JobEventFollower | undefined;
    try {
      if (finished) await this.ensureFinal(row);
      first = await this.stream.readAfter(jobId, lastEventId, PAGE);
      // A finished job is replayed, never followed: its stream holds its final events now.
      if (!finished) follower = await this.stream.follower(this.heartbeatMs);
    } catch (error) {
      throw eventsUnavailable(error);
    }
    if (finished && first.length === 0) {
      release();
      return undefined;
    }
    let closed = false;
    const close = () => {
      if (closed) return;
      closed = true;
      this.watching.delete(close);
      follower?.close();
      release();
    };
    this.watching.add(close);
    const { stream, jobs } = this;
    const ensureFinal = (row: JobRow) => this.ensureFinal(row);
    async function* items(): AsyncGenerator<FeedItem> {
      let last = lastEventId ?? '0-0';
      try {
        // What is there already, page by page.
        let page = first;
        for (;;) {
          for (const stored of page) {
            yield stored;
            last = stored.id;
            if (endsStream(stored)) return;
          }
          if (finished && page.length < PAGE) return;
          if (page.length < PAGE) break;
          page = await stream.readAfter(jobId, last, PAGE);
        }
        // Then what comes, until the job's last event.
        while (!closed && follower) {
          const events = await follower.read(jobId, last, PAGE);
          if (events.length === 0) {
            yield 'heartbeat';
            // Quiet: the job may have ended without its final events reaching the stream.
            const now = await jobs.find(tenantId, jobId);
            if (!now || !isFinalStatus(now.status)) continue;
            await ensureFinal(now);
            for (;;) {
              const rest = await stream.readAfter(jobId, last, PAGE);
              for (const stored of rest) {
                yield stored;
                last = stored.id;
              }
              if (rest.length < PAGE) return;
            }
          }
          for (const stored of events) {
            yield stored;
            last = stored.id;
            if (endsStream(stored)) return;
          }
        }
      } catch (error) {
        // Closing ends a blocked read with an error: that is the end, not a failure.
        if (!closed) throw error;
      } finally {
        close();
      }
    }
    return { items, close };
  }

  /**
   * A finished job's stream ends with its terminal state (and report): appended from its row
   * when the stream lacks them (expired, or their publish failed). Appends of these are
   * once-only (queue/job-event-stream.ts), so replicas and the worker racing agree on ids.
   */
  private async ensureFinal(row: JobRow): Promise<void> {
    const at = row.finishedAt ?? row.updatedAt;
    const modelId = row.model?.id ?? null;
    await this.stream.append(
      row.id,
      stateEvent(
        row.id,
        {
          status: row.status,
          cancelRequested: row.cancelRequested,
          error: row.error,
          modelId,
        },
        at,
      ),
    );
    if (row.status === 'succeeded' && modelId && row.metrics) {
      await this.stream.append(row.id, {
        type: 'report',
        jobId: row.id,
        at: at.toISOString(),
        modelId,
        metrics: row.metrics as unknown as StoredTrainingSummary,
      });
    }
  }
}

/** The worker's progress as an event (progress-recorder.ts). */
export type ProgressEvent = JobProgressEventView | JobEpochEventView;
