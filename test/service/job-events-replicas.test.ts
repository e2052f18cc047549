import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobProgressEventView } from '../../src/contracts/job-events.js';
import { wireJobEvents } from '../../src/runtime/wiring.js';
import { stateEvent, type JobEvents } from '../../src/services/job-events.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';
import { collect, openJobEvents, strictlyIncreasing, type ReceivedEvent } from '../helpers/sse.js';

/*
 * The done-when of job events: a watcher connects to one API replica, drops mid-sequence, and
 * reconnects to a second API process (a real `node dist/api/server.js`, sharing only
 * PostgreSQL and Redis) with Last-Event-ID: every event arrives exactly once, in order.
 */

let h: Harness;
let events: JobEvents;
let key: string;
let tenantId: string;
let replicaOne: string;
let replicaTwo: string;
let second: ChildProcess | undefined;
let secondDir: string | undefined;
const secondLog: string[] = [];

const built = (path: string) => fileURLToPath(new URL(`../../dist/${path}`, import.meta.url));

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline)
      throw new Error(`not: ${what} within ${timeoutMs} ms\n${secondLog.join('').slice(-4000)}`);
    await sleep(200);
  }
}

beforeAll(async () => {
  if (!existsSync(built('api/routes/job-events.routes.js')))
    throw new Error('dist/ predates job events: run `npm run build` first');
  h = await startHarness({ worker: false });
  key = await h.newKey('acme');
  tenantId = (await h.db.tenant.findUniqueOrThrow({ where: { name: 'acme' } })).id;
  events = wireJobEvents(h.redis, h.db, h.config);
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  replicaOne = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;

  // The second replica: its own process and data folder; PostgreSQL and Redis shared.
  const port = await freePort();
  secondDir = mkdtempSync(join(tmpdir(), 'graft-api2-data-'));
  const inherited = Object.fromEntries(
    ['PATH', 'HOME', 'TMPDIR', 'LANG'].flatMap((name) =>
      process.env[name] ? [[name, process.env[name]]] : [],
    ),
  ) as Record<string, string>;
  second = spawn(process.execPath, [built('api/server.js')], {
    env: {
      ...inherited,
      DATABASE_URL: h.config.databaseUrl,
      REDIS_URL: h.config.redisUrl,
      GRAFT_QUEUE: h.config.queueName,
      GRAFT_DATA_DIR: secondDir,
      GRAFT_RATE_LIMITS: 'off',
      GRAFT_MAX_EVENT_LOOP_DELAY_MS: '0',
      // Heartbeats (and the look at a quiet job's row) every 2 s instead of 15.
      GRAFT_IDLE_TIMEOUT_MS: '4000',
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk: Buffer) => secondLog.push(chunk.toString());
  second.stdout!.on('data', keep);
  second.stderr!.on('data', keep);
  replicaTwo = `http://127.0.0.1:${port}`;
  await until('the second replica answers /readyz', async () => {
    const response = await fetch(`${replicaTwo}/readyz`);
    return response.status < 500;
  });
});

afterAll(async () => {
  if (second && second.exitCode === null && second.signalCode === null) {
    const exited = new Promise((resolve) => second!.once('exit', resolve));
    second.kill('SIGKILL');
    await exited;
  }
  await h?.close();
  if (secondDir) rmSync(secondDir, { recursive: true, force: true });
});

/** A running job of the tenant, as a worker would have it. */
async function runningJob(): Promise<string> {
  const row = await h.db.trainingJob.create({
    data: { tenantId, spec: {}, status: 'running', startedAt: new Date() },
  });
  return row.id;
}

/** The n-th of a numbered sequence: a progress event whose batch is its number. */
const numbered = (jobId: string, n: number, of: number): JobProgressEventView => ({
  type: 'progress',
  jobId,
  at: new Date().toISOString(),
  phase: 'fineTuning',
  progress: n / (of + 1),
  epoch: 1,
  epochs: 1,
  batch: n,
  batches: of,
  loss: 1 / n,
  accuracy: null,
  etaSeconds: of - n,
});

const numbers = (received: ReceivedEvent[]) =>
  received.flatMap((e) => (e.data.type === 'progress' ? [e.data.batch] : []));

describe('job events across API replicas', () => {
  it('drops on one replica and resumes on another with Last-Event-ID: nothing lost, nothing twice', async () => {
    const jobId = await runningJob();
    const total = 60;
    let published = 0;
    // Published while the watcher reads, drops and switches: some land during the gap.
    const publishing = (async () => {
      for (let n = 1; n <= total; n++) {
        await events.publish(tenantId, numbered(jobId, n, total));
        published = n;
        await sleep(25);
      }
      await h.db.trainingJob.update({
        where: { id: jobId },
        data: { status: 'cancelled', cancelRequested: true, finishedAt: new Date() },
      });
      await events.publish(tenantId, stateEvent(jobId, { status: 'cancelled' }));
    })();

    const first = await openJobEvents(replicaOne, key, jobId);
    expect(first.status).toBe(200);
    // Dropped mid-sequence, as a client whose network went away.
    const before = await collect(first, (received) => received.length >= 15);
    const lastSeen = before.at(-1)!.id;
    // Give the publisher time to get ahead while no one is connected.
    await sleep(200);

    const publishedWhileAway = published;
    const resumed = await openJobEvents(replicaTwo, key, jobId, { lastEventId: lastSeen });
    expect(resumed.status).toBe(200);
    // Replica two ends the stream itself after the job's terminal state.
    const after = await collect(resumed);
    await publishing;

    const all = [...before, ...after];
    expect(numbers(all)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(strictlyIncreasing(all.map((e) => e.id))).toBe(true);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(all.at(-1)!.data).toMatchObject({ type: 'state', status: 'cancelled' });
    // Some came while no one was connected: replica two sent them from the stream.
    expect(publishedWhileAway).toBeGreaterThan(numbers(before).at(-1)!);
    expect(publishedWhileAway).toBeLessThan(total);

    // Every replica tells the same events under the same ids.
    const onOne = await collect(await openJobEvents(replicaOne, key, jobId));
    const onTwo = await collect(await openJobEvents(replicaTwo, key, jobId));
    expect(onTwo).toEqual(onOne);
    expect(onOne).toEqual(all);
    // And on either, once everything was seen: 204.
    for (const replica of [replicaOne, replicaTwo]) {
      const done = await openJobEvents(replica, key, jobId, { lastEventId: all.at(-1)!.id });
      expect(done.status).toBe(204);
    }
  });

  it('tells a job another replica finished while it was watched quietly (its final event lost)', async () => {
    const jobId = await runningJob();
    await events.publish(tenantId, numbered(jobId, 1, 1));
    const watch = await openJobEvents(replicaTwo, key, jobId);
    const received = collect(watch);
    await sleep(300);
    // Finished in PostgreSQL, but its final event never reached Redis (the publisher died).
    await h.db.trainingJob.update({
      where: { id: jobId },
      data: { status: 'failed', error: 'lost', finishedAt: new Date() },
    });
    // The second replica looks at the row when the stream is quiet (each heartbeat) and ends
    // the stream with the terminal state from it; the first replica tells the same, same id.
    const events2 = await received;
    expect(events2.map((e) => e.data.type)).toEqual(['progress', 'state']);
    expect(events2[1]!.data).toMatchObject({ status: 'failed', error: 'lost' });
    const onOne = await collect(await openJobEvents(replicaOne, key, jobId));
    expect(onOne).toEqual(events2);
  }, 60_000);

  it('ends its open streams when the replica shuts down, so it stops within its drain bound', async () => {
    const jobId = await runningJob();
    await events.publish(tenantId, numbered(jobId, 1, 1));
    const watch = await openJobEvents(replicaTwo, key, jobId);
    expect(watch.status).toBe(200);
    const received = collect(watch);
    const exited = new Promise<number | null>((resolve) =>
      second!.once('exit', (code) => resolve(code)),
    );
    const stoppedAt = Date.now();
    second!.kill('SIGTERM');
    // The stream ends (the client would reconnect, with its last id, to another replica)…
    expect((await received).map((e) => e.data.type)).toEqual(['progress']);
    // …and the process exits cleanly, well before GRAFT_DRAIN_TIMEOUT_MS (10 s).
    expect(await exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    await h.db.trainingJob.update({ where: { id: jobId }, data: { status: 'cancelled' } });
  });
});
