import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEventView, JobProgressEventView } from '../../src/contracts/job-events.js';
import {
  isStreamId,
  JobEventStream,
  jobEventsKeys,
  type StoredJobEvent,
} from '../../src/queue/job-event-stream.js';
import {
  closeRedis,
  createRedis,
  EVENTS_COMMAND_TIMEOUT_MS,
  whenReady,
} from '../../src/queue/redis-connection.js';
import { ensureRedis, type Started } from '../../src/runtime/infrastructure.js';
import { JobEvents, stateEvent } from '../../src/services/job-events.js';
import { strictlyIncreasing } from '../helpers/sse.js';

/*
 * A job's Redis streams (queue/job-event-stream.ts) on a real Redis: what trimming keeps, the
 * one id sequence of its two streams, what is refused after a job's end; and the events
 * connection against a Redis that stops answering.
 */

let redisServer: Started;
let redis: Redis;

beforeAll(async () => {
  redisServer = await ensureRedis(undefined, join(tmpdir(), 'graft-it-redis'));
  redis = new Redis(redisServer.url);
});

afterAll(async () => {
  await redis?.quit();
  await redisServer?.stop?.();
});

const progress = (jobId: string, n: number): JobProgressEventView => ({
  type: 'progress',
  jobId,
  at: new Date().toISOString(),
  phase: 'fineTuning',
  progress: n / 10_000,
  epoch: Math.floor(n / 100) + 1,
  epochs: 10,
  batch: n % 100,
  batches: 100,
  loss: 0.5,
  accuracy: null,
  etaSeconds: 1,
});

const epoch = (jobId: string, n: number): JobEventView => ({
  type: 'epoch',
  jobId,
  at: new Date().toISOString(),
  record: {
    phase: 'fineTuning',
    epoch: n,
    loss: 0.5,
    accuracy: 0.8,
    valLoss: 0.6,
    valAccuracy: 0.7,
  },
});

/** Everything after `after`, `page` at a time. */
async function readAll(stream: JobEventStream, jobId: string, after?: string, page = 7) {
  const all: StoredJobEvent[] = [];
  for (let last = after; ;) {
    const got = await stream.readAfter(jobId, last, page);
    all.push(...got);
    if (got.length < page) return all;
    last = got.at(-1)!.id;
  }
}

const kinds = (events: StoredJobEvent[]) =>
  events.map(({ event }) =>
    event.type === 'state' ? event.status : event.type === 'epoch' ? 'epoch' : event.type,
  );

describe('a job event stream', () => {
  it('trims old progress only: states, epochs and the report of a long run all stay', async () => {
    const jobId = randomUUID();
    const stream = new JobEventStream(redis, { ttlSeconds: 60, progressMaxLength: 10 });
    await stream.append(jobId, stateEvent(jobId, { status: 'queued' }));
    await stream.append(jobId, stateEvent(jobId, { status: 'running' }));
    const ids: string[] = [];
    for (let n = 0; n < 1000; n++) {
      ids.push((await stream.append(jobId, progress(jobId, n)))!);
      if (n % 100 === 99) await stream.append(jobId, epoch(jobId, (n + 1) / 100));
    }
    await stream.append(jobId, stateEvent(jobId, { status: 'failed', error: 'x' }));

    const all = await readAll(stream, jobId);
    expect(strictlyIncreasing(all.map((e) => e.id))).toBe(true);
    const kept = kinds(all);
    expect(kept.filter((k) => k !== 'progress')).toEqual([
      'queued',
      'running',
      ...Array<string>(10).fill('epoch'),
      'failed',
    ]);
    // Only the newest progress is kept (about 10: whole nodes are trimmed), in its place.
    const progressKept = all.filter((e) => e.event.type === 'progress');
    expect(progressKept.length).toBeGreaterThanOrEqual(10);
    expect(progressKept.length).toBeLessThan(300);
    expect(progressKept.at(-1)!.id).toBe(ids.at(-1));
    // A resume from an id whose progress was trimmed away still gets every epoch after it.
    const resumed = await readAll(stream, jobId, ids[150]);
    expect(kinds(resumed).filter((k) => k === 'epoch')).toHaveLength(9);
    expect(resumed).toEqual(all.filter((e) => after(e.id, ids[150]!)));
    await redis.del(...jobEventsKeys(jobId));
  });

  it('merges its two streams in one id order for a follower too', async () => {
    const jobId = randomUUID();
    const stream = new JobEventStream(redis, { ttlSeconds: 60 });
    for (let n = 0; n < 30; n++) {
      await stream.append(jobId, n % 3 === 0 ? epoch(jobId, n) : progress(jobId, n));
    }
    const all = await readAll(stream, jobId, undefined, 1000);
    expect(all).toHaveLength(30);
    expect(strictlyIncreasing(all.map((e) => e.id))).toBe(true);
    expect(await readAll(stream, jobId, undefined, 4)).toEqual(all);
    const follower = await stream.follower(100);
    try {
      const followed: StoredJobEvent[] = [];
      for (let last = '0-0'; ;) {
        const got = await follower.read(jobId, last, 4);
        if (got.length === 0) break;
        followed.push(...got);
        last = got.at(-1)!.id;
      }
      expect(followed).toEqual(all);
    } finally {
      follower.close();
    }
    await redis.del(...jobEventsKeys(jobId));
  });

  it('takes nothing after the end but the report, and each of those once', async () => {
    const jobId = randomUUID();
    const stream = new JobEventStream(redis, { ttlSeconds: 60 });
    expect(await stream.append(jobId, stateEvent(jobId, { status: 'running' }))).toBeDefined();
    const end = stateEvent(jobId, { status: 'succeeded', modelId: randomUUID() });
    expect(await stream.append(jobId, end)).toBeDefined();
    // A late progress publish, an API's cancel request that lost the race, a second end.
    expect(await stream.append(jobId, progress(jobId, 1))).toBeUndefined();
    const late = stateEvent(jobId, { status: 'running', cancelRequested: true });
    expect(await stream.append(jobId, late)).toBeUndefined();
    expect(await stream.append(jobId, end)).toBeUndefined();
    const report: JobEventView = {
      type: 'report',
      jobId,
      at: new Date().toISOString(),
      modelId: randomUUID(),
      metrics: {} as never,
    };
    expect(await stream.append(jobId, report)).toBeDefined();
    expect(await stream.append(jobId, report)).toBeUndefined();
    expect(kinds(await readAll(stream, jobId))).toEqual(['running', 'succeeded', 'report']);
    await redis.del(...jobEventsKeys(jobId));
  });

  it('knows an id Redis takes: each part at most 2^64-1', () => {
    expect(isStreamId('1764390000000-0')).toBe(true);
    expect(isStreamId('18446744073709551615-18446744073709551615')).toBe(true);
    expect(isStreamId('18446744073709551616-0')).toBe(false);
    expect(isStreamId('1-99999999999999999999')).toBe(false);
    expect(isStreamId('latest')).toBe(false);
  });
});

describe('the events connection', () => {
  let silent: Server;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // A Redis that answers the connection's ready check, then nothing: hung, not down.
    silent = createServer((socket) => {
      sockets.push(socket);
      let ready = false;
      socket.on('data', (chunk) => {
        for (const command of chunk
          .toString()
          .split(/\*\d+\r\n/)
          .slice(1)) {
          if (ready) return;
          if (/^\$4\r\ninfo\r\n/i.test(command)) {
            ready = true;
            const info = '# Server\r\nloading:0\r\n';
            socket.write(`$${info.length}\r\n${info}\r\n`);
          } else socket.write('+OK\r\n');
        }
      });
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('gives up on a publish to a Redis that stopped answering within its command timeout', async () => {
    const { port } = silent.address() as { port: number };
    const connection = createRedis(`redis://127.0.0.1:${port}`, 'events');
    await whenReady(connection, 2000);
    expect(connection.status).toBe('ready');
    const warnings: string[] = [];
    const log = { warn: (_: unknown, message: string) => warnings.push(message) };
    const events = new JobEvents(
      new JobEventStream(connection, { ttlSeconds: 60 }),
      [],
      log as never,
    );
    const jobId = randomUUID();
    const started = Date.now();
    await events.publish(randomUUID(), stateEvent(jobId, { status: 'running' }));
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(EVENTS_COMMAND_TIMEOUT_MS - 100);
    expect(took).toBeLessThan(EVENTS_COMMAND_TIMEOUT_MS + 2000);
    expect(warnings).toEqual(['a job event was not stored']);
    await closeRedis(connection, 100);
  }, 20_000);
});

function after(id: string, than: string): boolean {
  const [a, b] = [id, than].map((x) => x.split('-').map(BigInt) as [bigint, bigint]);
  return a![0] > b![0] || (a![0] === b![0] && a![1] > b![1]);
}
