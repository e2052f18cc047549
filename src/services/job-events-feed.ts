import type { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import {
  isFinalStatus,
  isStreamId,
  type JobEventFollower,
  type JobEventStream,
  type StoredJobEvent,
} from '../queue/job-event-stream.js';
import { jobEventStreams } from '../observability/metrics.js';
import { DomainError, notFound, unavailable } from './domain-error.js';
import { finalEvents } from './job-events.js';

/*
 * What `GET /v1/jobs/:id/events` reads: a job's events from its Redis streams
 * (queue/job-event-stream.ts), replayed and then followed, on any API replica.
 */

/** What a watcher is sent: an event, or a keep-alive comment after a quiet period. */
export type FeedItem = StoredJobEvent | 'heartbeat';

export interface JobWatch {
  /**
   * The job's events after the watcher's last one (from the start without it), then the live
   * ones; ends once the job's final events were sent, when its row is gone, after the stream's
   * longest life, or when closed.
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
  /**
   * A stream of a job still running ends after about this long (1 h): its client reconnects
   * with Last-Event-ID, which checks its API key again (a revoked one stops there).
   */
  maxStreamMs?: number;
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

const shuttingDown = () =>
  unavailable(
    'shutting_down',
    'this server is shutting down; reconnect, with Last-Event-ID, to go on elsewhere',
  );

/**
 * Serves job event streams to watchers, each following its job's Redis streams on a connection
 * of its own (a blocking read holds one), within per-replica and per-tenant caps.
 */
export class JobEventsFeed {
  private readonly heartbeatMs: number;
  private readonly maxWatchers: number;
  private readonly maxPerTenant: number;
  private readonly maxStreamMs: number;
  /** Watches admitted, opening ones included: what the caps count. */
  private admitted = 0;
  private readonly perTenant = new Map<string, number>();
  /** Open watches, each its `close`. */
  private readonly watching = new Set<() => void>();
  private closing = false;

  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly stream: JobEventStream,
    options: JobEventsFeedOptions = {},
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.maxWatchers = options.maxWatchers ?? 500;
    this.maxPerTenant = options.maxWatchersPerTenant ?? 20;
    this.maxStreamMs = options.maxStreamMs ?? 3_600_000;
  }

  /** Streams followed (or opening) now on this replica. */
  get watchers(): number {
    return this.admitted;
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
    if (lastEventId !== undefined && !isStreamId(lastEventId)) {
      throw new DomainError(
        400,
        'invalid_last_event_id',
        `Last-Event-ID '${lastEventId.slice(0, 64)}' is not an event id of this API (like 1764390000000-0)`,
      );
    }
    if (this.closing) throw shuttingDown();
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

  /**
   * Ends every open watch and refuses new ones, opening ones included (the API is closing:
   * its watchers reconnect to another replica).
   */
  closeAll(): void {
    this.closing = true;
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
    if (this.admitted >= this.maxWatchers) {
      throw unavailable(
        'too_many_event_streams',
        'this server follows as many job event streams as it can; retry shortly',
        RETRY_AFTER_S,
      );
    }
    this.perTenant.set(tenantId, own + 1);
    this.admitted++;
    jobEventStreams.inc();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.admitted--;
      jobEventStreams.dec();
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
    // closeAll came while this one was opening: it would not have ended it.
    if (this.closing) {
      follower?.close();
      throw shuttingDown();
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
    const endsAt = Date.now() + this.maxStreamMs;
    /** `page`, then every page after it, until a short one. */
    async function* pagesFrom(page: StoredJobEvent[]): AsyncGenerator<StoredJobEvent> {
      for (;;) {
        yield* page;
        if (page.length < PAGE) return;
        page = await stream.readAfter(jobId, page.at(-1)!.id, PAGE);
      }
    }
    async function* items(): AsyncGenerator<FeedItem> {
      let last = lastEventId ?? '0-0';
      try {
        // What is there already.
        for await (const stored of pagesFrom(first)) {
          if (closed) return;
          yield stored;
          last = stored.id;
          if (endsStream(stored)) return;
        }
        // Then what comes, until the job's last event (or the stream's longest life).
        while (!finished && !closed && follower && Date.now() < endsAt) {
          const events = await follower.read(jobId, last, PAGE);
          if (events.length === 0) {
            yield 'heartbeat';
            // Quiet: the job may have ended without its final events reaching the stream.
            const now = await jobs.find(tenantId, jobId);
            // Gone (deleted with its tenant): nothing more will come.
            if (!now) return;
            if (!isFinalStatus(now.status)) continue;
            await ensureFinal(now);
            yield* pagesFrom(await stream.readAfter(jobId, last, PAGE));
            return;
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
    for (const event of finalEvents(row)) await this.stream.append(row.id, event);
  }
}
