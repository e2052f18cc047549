import { Redis } from 'ioredis';
import type { JobEventView } from '../contracts/job-events.js';

/*
 * Each job's events as one Redis stream, `graft:job-events:<jobId>`: every API replica and
 * worker appends to it and reads from it, so a watcher may reconnect to any replica and go on
 * from the id it last saw. Entry ids are Redis's own (`<ms>-<seq>`), increasing, the same for
 * every reader. Each entry holds the event's JSON in its `event` field. The stream is trimmed
 * to about `maxLength` entries (the oldest go) and expires `ttlSeconds` after its last append.
 */

export const jobEventsKey = (jobId: string) => `graft:job-events:${jobId}`;

/** A stream entry id: milliseconds, a dash, a sequence number. */
export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

export interface StoredJobEvent {
  id: string;
  event: JobEventView;
}

export interface JobEventStreamOptions {
  /** Kept this long after the last append. */
  ttlSeconds: number;
  /** Trimmed to about this many entries (approximate MAXLEN: whole radix-tree nodes go). */
  maxLength?: number;
}

const DEFAULT_MAX_LENGTH = 20_000;
const FINAL_STATUSES = new Set(['succeeded', 'failed', 'cancelled']);
/** How far back an append looks for the entry it must not repeat (only a report or a late progress follow one). */
const ONCE_LOOKBACK = 16;

/**
 * The events a job tells once: its terminal state and its report. A worker and an API replica
 * that finds the stream without them (they expired, or Redis lost the append) may both append
 * one; the first one wins and the other is dropped, so every reader sees the same ids.
 */
export function onceMarker(event: JobEventView): 'final' | 'report' | '' {
  if (event.type === 'report') return 'report';
  return event.type === 'state' && FINAL_STATUSES.has(event.status) ? 'final' : '';
}

/**
 * KEYS[1]: the stream. ARGV: the event's JSON, the MAXLEN, the TTL in seconds, the once marker
 * ('' for none), the lookback. Returns the new id, or false when the marker is there already.
 */
const APPEND = `
local once = ARGV[4]
if once ~= '' then
  local recent = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', tonumber(ARGV[5]))
  for _, entry in ipairs(recent) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'once' and fields[i + 1] == once then return false end
    end
  end
end
local id
if once ~= '' then
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'event', ARGV[1], 'once', once)
else
  id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'event', ARGV[1])
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
return id
`;

type RawEntry = [id: string, fields: string[]];

function parseEntries(entries: RawEntry[]): StoredJobEvent[] {
  const events: StoredJobEvent[] = [];
  for (const [id, fields] of entries) {
    const at = fields.indexOf('event');
    if (at < 0 || at % 2 !== 0) continue;
    try {
      events.push({ id, event: JSON.parse(fields[at + 1]!) as JobEventView });
    } catch {
      // Not ours, or damaged: skipped, the ids around it still hold.
    }
  }
  return events;
}

export class JobEventStream {
  private readonly maxLength: number;

  constructor(
    /** Appends and reads; never blocked (following uses a connection of its own). */
    private readonly redis: Redis,
    private readonly options: JobEventStreamOptions,
  ) {
    this.maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  }

  /**
   * Appends an event and refreshes the stream's expiry. Returns its id, or undefined when it
   * is a terminal state or report the stream holds already (see `onceMarker`).
   */
  async append(jobId: string, event: JobEventView): Promise<string | undefined> {
    const id = (await this.redis.eval(
      APPEND,
      1,
      jobEventsKey(jobId),
      JSON.stringify(event),
      this.maxLength,
      this.options.ttlSeconds,
      onceMarker(event),
      ONCE_LOOKBACK,
    )) as string | null;
    return id ?? undefined;
  }

  /** Up to `count` events after `afterId` (exclusive), oldest first; from the start without it. */
  async readAfter(
    jobId: string,
    afterId: string | undefined,
    count: number,
  ): Promise<StoredJobEvent[]> {
    const start = afterId === undefined ? '-' : `(${afterId}`;
    const entries = await this.redis.xrange(jobEventsKey(jobId), start, '+', 'COUNT', count);
    return parseEntries(entries);
  }

  /**
   * A connection of its own for one watcher: a blocking read holds its connection until
   * something arrives. Resolves once connected; rejects if Redis does not answer.
   */
  async follower(blockMs: number): Promise<JobEventFollower> {
    const connection = this.redis.duplicate({
      lazyConnect: true,
      // Fail, never queue or reconnect: the watcher's client reconnects, maybe elsewhere.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 5000,
      // A read blocks for `blockMs`; one that does not answer well after is a dead link.
      commandTimeout: blockMs + 5000,
    });
    connection.on('error', () => undefined);
    try {
      await connection.connect();
    } catch (error) {
      connection.disconnect();
      throw error;
    }
    return new JobEventFollower(connection, blockMs);
  }
}

/** One watcher's blocking reads (XREAD BLOCK) on its own connection; `close` ends any read. */
export class JobEventFollower {
  constructor(
    private readonly connection: Redis,
    private readonly blockMs: number,
  ) {}

  /** Events after `afterId`, waiting up to `blockMs` for some; [] when none came. */
  async read(jobId: string, afterId: string, count: number): Promise<StoredJobEvent[]> {
    const key = jobEventsKey(jobId);
    const answer = await this.connection.xread(
      'COUNT',
      count,
      'BLOCK',
      this.blockMs,
      'STREAMS',
      key,
      afterId,
    );
    return parseEntries(answer?.[0]?.[1] ?? []);
  }

  close(): void {
    this.connection.disconnect();
  }
}

/**
 * A connection for publishing from a process that has no API connection (a worker, a
 * sandboxed processor): it queues commands until connected, but fails them after one retry
 * of a lost connection, so a publish never hangs for long on a dead Redis.
 */
export function eventsRedis(url: string): Redis {
  const redis = new Redis(url, {
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    enableOfflineQueue: true,
  });
  // A failed publish is logged by its publisher; the connection's events are not news.
  redis.on('error', () => undefined);
  return redis;
}

/** Closes a connection, waiting for its replies at most `ms`. */
export async function closeRedis(redis: Redis, ms = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    redis.quit().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, ms))),
  ]);
  clearTimeout(timer);
  redis.disconnect();
}
