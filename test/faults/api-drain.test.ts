import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type IncomingMessage } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_REDIS_URL } from '../../src/config/config.js';
import { ApiKeysRepository } from '../../src/db/api-keys.repository.js';
import { createDb } from '../../src/db/prisma-client.js';
import { applyMigrations } from '../../src/runtime/infrastructure.js';
import { cliTestDatabase } from '../helpers/cli-database.js';
import { colourDataset, multipart } from '../helpers/dataset-zips.js';

/*
 * SIGTERM on a real API process (`tsx src/api/server.ts`): it stops accepting connections,
 * lets the request in flight finish with its normal answer and exits 0; a request that does
 * not finish within GRAFT_DRAIN_TIMEOUT_MS is cut off and the process exits 1, saying so.
 */

const database = cliTestDatabase('drain');
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

let key: string;
let zipBody: { payload: Buffer; headers: Record<string, string> };
const dataDirs: string[] = [];
const children: ChildProcess[] = [];

beforeAll(async () => {
  await applyMigrations(database.url());
  const db = createDb(database.url());
  key = (await new ApiKeysRepository(db).create('acme')).key;
  await db.$disconnect();
  zipBody = multipart('colours.zip', await colourDataset(3), { name: 'colours' });
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

interface Api {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<{ code: number | null; at: number }>;
}

async function startApi(env: Record<string, string> = {}): Promise<Api> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'graft-drain-'));
  dataDirs.push(dataDir);
  const child = spawn(resolve('node_modules/.bin/tsx'), ['src/api/server.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: database.url(),
      REDIS_URL: process.env.REDIS_URL ?? DEFAULT_REDIS_URL,
      PORT: String(port),
      GRAFT_DATA_DIR: dataDir,
      GRAFT_QUEUE: `graft-drain-${randomBytes(4).toString('hex')}`,
      GRAFT_RATE_LIMITS: 'off',
      GRAFT_MAX_EVENT_LOOP_DELAY_MS: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; at: number }>((done) =>
    child.once('exit', (code) => done({ code, at: Date.now() })),
  );
  for (let tries = 0; ; tries++) {
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    if (child.exitCode !== null || tries > 150) throw new Error(`API did not start: ${stderr}`);
    await sleep(100);
  }
  return { child, port, stderr: () => stderr, exited };
}

/**
 * A dataset upload whose body is sent in `chunks` pieces, `everyMs` apart; with `stallAfter`,
 * it stops sending after that many pieces and never finishes.
 */
function slowUpload(
  port: number,
  options: { chunks: number; everyMs: number; stallAfter?: number },
) {
  const { payload, headers } = zipBody;
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: '/v1/datasets',
    headers: { ...headers, 'content-length': payload.length, authorization: `Bearer ${key}` },
  });
  const answer = new Promise<{ status: number; body: string }>((done, fail) => {
    req.on('response', (res: IncomingMessage) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, body }));
      res.on('error', fail);
    });
    req.on('error', fail);
  });
  const size = Math.ceil(payload.length / options.chunks);
  void (async () => {
    for (let i = 0; i < options.chunks; i++) {
      if (options.stallAfter !== undefined && i >= options.stallAfter) return;
      req.write(payload.subarray(i * size, (i + 1) * size));
      await sleep(options.everyMs);
    }
    req.end();
  })();
  return answer;
}

/** What a brand-new connection gets: refused, or an answer (status and headers). */
function newRequest(port: number): Promise<{ refused: true } | { status: number; type: string }> {
  return fetch(`http://127.0.0.1:${port}/v1/jobs`, {
    headers: { authorization: `Bearer ${key}` },
  }).then(
    (r) => ({ status: r.status, type: r.headers.get('content-type') ?? '' }),
    (error: Error & { cause?: { code?: string } }) => {
      expect(error.cause?.code).toBe('ECONNREFUSED');
      return { refused: true as const };
    },
  );
}

/** A connection opened before the signal whose request arrives after it: the raw answer. */
function lateRequestOnOpenConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  let raw = '';
  socket.on('data', (chunk: Buffer) => (raw += chunk.toString()));
  const closed = new Promise<string>((done) => {
    socket.on('close', () => done(raw));
    socket.on('error', () => undefined);
  });
  // Headers started before the signal: the server counts this connection as busy.
  socket.write('GET /v1/jobs HTTP/1.1\r\nhost: 127.0.0.1\r\n');
  return {
    finish: () => socket.write(`authorization: Bearer ${key}\r\n\r\n`),
    closed,
  };
}

describe('API graceful drain on SIGTERM', () => {
  it('finishes the upload in flight, takes nothing new, and exits 0', async () => {
    const api = await startApi();
    const late = lateRequestOnOpenConnection(api.port);
    const upload = slowUpload(api.port, { chunks: 10, everyMs: 200 });
    await sleep(400);
    const signalledAt = Date.now();
    api.child.kill('SIGTERM');
    await sleep(300);

    const fresh = await newRequest(api.port);
    if ('status' in fresh) {
      expect(fresh.status).toBe(503);
      expect(fresh.type).toMatch(/^application\/problem\+json/);
    }
    late.finish();
    const lateAnswer = await late.closed;
    expect(lateAnswer).toMatch(/^HTTP\/1\.1 503 /);
    expect(lateAnswer).toMatch(/content-type: application\/problem\+json/i);
    expect(lateAnswer).toMatch(/retry-after: \d+/i);
    expect(lateAnswer).toMatch(/connection: close/i);
    expect(lateAnswer).toContain('"code":"shutting_down"');

    const answer = await upload;
    const answeredAt = Date.now();
    expect(answer.status).toBe(201);
    expect(JSON.parse(answer.body)).toMatchObject({ name: 'colours', imageCount: 6 });

    const { code, at } = await api.exited;
    expect(code).toBe(0);
    // The answer closed its connection, so nothing kept alive holds the exit up.
    expect(at - answeredAt).toBeLessThan(1500);
    expect(api.stderr()).toMatch(/SIGTERM: stopping, finishing 1 request in flight/);
    console.log(
      `drain: exited ${code} ${at - signalledAt} ms after SIGTERM; new connection: ${JSON.stringify(fresh)}`,
    );
  });

  it('cuts off a request that never finishes once GRAFT_DRAIN_TIMEOUT_MS passes, and exits 1', async () => {
    const api = await startApi({ GRAFT_DRAIN_TIMEOUT_MS: '1000' });
    const stalled = slowUpload(api.port, { chunks: 10, everyMs: 100, stallAfter: 2 }).catch(
      (error: Error) => error,
    );
    await sleep(400);
    const signalledAt = Date.now();
    api.child.kill('SIGTERM');
    const { code, at } = await api.exited;
    const tookMs = at - signalledAt;
    expect(code).toBe(1);
    expect(tookMs).toBeGreaterThanOrEqual(900);
    expect(tookMs).toBeLessThan(3000);
    expect(api.stderr()).toMatch(
      /not stopped 1000 ms after SIGTERM .*: 1 request in flight cut off/,
    );
    // The client sees its connection end without an answer.
    expect(await stalled).toBeInstanceOf(Error);
    console.log(`drain bound: exited ${code} ${tookMs} ms after SIGTERM`);
  });
});
