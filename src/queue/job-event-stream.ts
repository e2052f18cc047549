import type { Redis } from 'ioredis';
import type { JobEventView } from '../contracts/job-events.js';

/*
 * Each job's events as Redis streams: every API replica and worker appends to them and reads
 * from them, so a watcher may reconnect to any replica and go on from the id it last saw.
 * Two streams per job share one sequence of ids (`<ms>-<seq>`, increasing, the same for every
 * reader): `graft:job-events:{<jobId>}` keeps the job's states, epochs and report, never trimmed
 * (a job has a few states per run, at most two phases of epochs, one report), and
 * `graft:job-events:{<jobId>}:progress` its `progress` events, trimmed to about the last
 * `progressMaxLength` (older ones are superseded by newer: a progress event tells where the
 * job is, not what happened). Readers merge the two by id. Each entry holds the event's JSON in
 * its `event` field. Both expire `ttlSeconds` after the job's last append. The braces are a
 * Redis Cluster hash tag: both keys land in one slot, as the append script and XREAD need.
 * Exclusive ranges (`(id`) need Redis 6.2 or later.
 */

/** The stream of a job's states, epochs and report. */
export const jobEventsKey = (jobId: string) => `graft:job-events:{${jobId}}`;
/** Both streams of a job: the one above, and its progress. */
export const jobEventsKeys = (jobId: string): [string, string] => [
  jobEventsKey(jobId),
  `${jobEventsKey(jobId)}:progress`,
];

/** A stream entry id: milliseconds, a dash, a sequence number. */
export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;
const MAX_ID_PART = 2n ** 64n - 1n;

/** An id Redis takes: the pattern, each part at most 2^64-1. */
export function isStreamId(id: string): boolean {
  if (!STREAM_ID.test(id)) return false;
  return id.split('-').every((part) => BigInt(part) <= MAX_ID_PART);
}

export interface StoredJobEvent {
  id: string;
  event: JobEventView;
}

export interface JobEventStreamOptions {
  /** Kept this long after the last append. */
  ttlSeconds: number;
  /** The progress stream is trimmed to about this many entries (whole radix-tree nodes go). */
  progressMaxLength?: number;
}

/** At most 4 a second (progress-recorder.ts): about 40 minutes of a run's progress. */
const DEFAULT_PROGRESS_MAX_LENGTH = 10_000;
const FINAL_STATUSES: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

/** A status no job leaves. */
export const isFinalStatus = (status: string) => FINAL_STATUSES.has(status);

/** How far back an append looks for a job's end (only its report follows its terminal state). */
const END_LOOKBACK = 4;

/**
 * The events a job tells once: its terminal state and its report. A worker and an API replica
 * that finds the stream without them (they expired, or Redis lost the append) may both append
 * one; the first one wins and the other is dropped, so every reader sees the same ids.
 */
export function onceMarker(event: JobEventView): 'final' | 'report' | '' {
  if (event.type === 'report') return 'report';
  return event.type === 'state' && isFinalStatus(event.status) ? 'final' : '';
}

/**
 * KEYS: the job's two streams. ARGV: the event's JSON; its kind ('final', 'report',
 * 'progress', or '' for the rest); the progress MAXLEN; the TTL in seconds; the lookback.
 * Returns the new id, or false when refused: a terminal state or report the stream holds
 * already, or anything but the report after the job's terminal state (a late progress
 * publish, an API's "cancel requested" that lost the race with the worker's end).
 */
const APPEND = `
local kind = ARGV[2]
local recent = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', tonumber(ARGV[5]))
for _, entry in ipairs(recent) do
  local fields = entry[2]
  for i = 1, #fields, 2 do
    if fields[i] == 'once' then
      local mark = fields[i + 1]
      if mark == kind or (mark == 'final' and kind ~= 'report') then return false end
    end
  end
end
-- One sequence for both streams: past the last id of either, as XADD's * would be.
local lastMs, lastSeq = -1, 0
for _, key in ipairs(KEYS) do
  local top = redis.call('XREVRANGE', key, '+', '-', 'COUNT', 1)[1]
  if top then
    local ms, seq = string.match(top[1], '^(%d+)-(%d+)$')
    ms, seq = tonumber(ms), tonumber(seq)
    if ms > lastMs or (ms == lastMs and seq > lastSeq) then lastMs, lastSeq = ms, seq end
  end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local id
if now > lastMs then
  id = string.format('%d-0', now)
else
  id = string.format('%d-%d', lastMs, lastSeq + 1)
end
if kind == 'progress' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], id, 'event', ARGV[1])
elseif kind ~= '' then
  redis.call('XADD', KEYS[1], id, 'event', ARGV[1], 'once', kind)
else
  redis.call('XADD', KEYS[1], id, 'event', ARGV[1])
end
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return id
`;

type RawEntry = [id: string, fields: string[]];

const newer = (a: string, b: string) => {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am > bm || (am === bm && as > bs);
};

/**
 * Two streams' entries after the same id as one page in id order. A stream that gave `count`
 * may have more below another's last: the page stops at the lowest last id of such a stream,
 * so nothing is skipped, and holds `count` entries whenever either stream had that many.
 */
function merged(pages: RawEntry[][], count: number): RawEntry[] {
  let cut: string | undefined;
  for (const page of pages) {
    const last = page.at(-1);
    if (page.length >= count && last && (cut === undefined || newer(cut, last[0]))) cut = last[0];
  }
  return pages
    .flat()
    .filter(([id]) => cut === undefined || !newer(id, cut))
    .sort(([a], [b]) => (a === b ? 0 : newer(a, b) ? 1 : -1))
    .slice(0, count);
}

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
  private readonly progressMaxLength: number;

  constructor(
    /** Appends and reads; never blocked (following uses a connection of its own). */
    private readonly redis: Redis,
    private readonly options: JobEventStreamOptions,
  ) {
    this.progressMaxLength = options.progressMaxLength ?? DEFAULT_PROGRESS_MAX_LENGTH;
  }

  /**
   * Appends an event and refreshes the streams' expiry. Returns its id, or undefined when it
   * was refused: a terminal state or report the stream holds already (see `onceMarker`), or
   * anything but the report after the job's terminal state.
   */
  async append(jobId: string, event: JobEventView): Promise<string | undefined> {
    const id = (await this.redis.eval(
      APPEND,
      2,
      ...jobEventsKeys(jobId),
      JSON.stringify(event),
      event.type === 'progress' ? 'progress' : onceMarker(event),
      this.progressMaxLength,
      this.options.ttlSeconds,
      END_LOOKBACK,
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
    const pages = await Promise.all(
      jobEventsKeys(jobId).map((key) => this.redis.xrange(key, start, '+', 'COUNT', count)),
    );
    return parseEntries(merged(pages, count));
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
    const keys = jobEventsKeys(jobId);
    const answer = await this.connection.xread(
      'COUNT',
      count,
      'BLOCK',
      this.blockMs,
      'STREAMS',
      ...keys,
      afterId,
      afterId,
    );
    const pages = keys.map((key) => answer?.find(([name]) => name === key)?.[1] ?? []);
    return parseEntries(merged(pages, count));
  }

  close(): void {
    this.connection.disconnect();
  }
}
