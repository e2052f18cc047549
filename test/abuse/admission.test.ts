import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { AdmissionSettings } from '../../src/config/config.js';
import type { ModelsRepository } from '../../src/db/models.repository.js';
import { wireApi } from '../../src/runtime/wiring.js';
import type { ModelRunner } from '../../src/services/model-runner.js';
import { PredictionsService } from '../../src/services/predictions.service.js';
import { modelToArtifacts, serializeArtifacts } from '../../src/training/model-artifacts.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';

/*
 * Admission control against the real server listening on a port, with small settings: a
 * connection silent for 1 s is dropped, 1 image pending inference, a 2 s deadline per
 * prediction.
 */

let h: Harness;
let port: number;
let key: string;
let modelId: string;
let image: Buffer;
const serverSockets = new Set<Socket>();

const IDLE_MS = 1000;
const DEADLINE_MS = 2000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A real (tiny) classifier in the store and the database: 8×8 RGB in, two classes out. */
async function storeTinyModel(tenantId: string): Promise<string> {
  const id = randomUUID();
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [8, 8, 3] }),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  const { modelJson, weights } = serializeArtifacts(await modelToArtifacts(model));
  model.dispose();
  const dir = join(h.config.dataDir, 'artifacts', 'models', id);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.json'), modelJson);
  writeFileSync(join(dir, 'weights.bin'), weights);
  const preprocessing = { size: 8, resize: 'fill', valueRange: [0, 1], channelOrder: 'RGB' };
  await h.db.model.create({
    data: {
      id,
      tenantId,
      baseModel: 'tiny',
      labels: ['left', 'right'],
      inputSize: 8,
      preprocessing,
      metrics: {},
      kept: 'feature_extraction',
      keptReason: 'test',
      artifactKey: `models/${id}`,
    },
  });
  return id;
}

beforeAll(async () => {
  h = await startHarness({
    worker: false,
    env: {
      GRAFT_IDLE_TIMEOUT_MS: String(IDLE_MS),
      // Room for the flood below; the test of a full process makes its own, smaller server.
      GRAFT_PREDICT_MAX_IN_FLIGHT: '64',
      GRAFT_INFERENCE_MAX_PENDING: '1',
      GRAFT_PREDICT_TIMEOUT_MS: String(DEADLINE_MS),
    },
  });
  h.app.server.on('connection', (socket: Socket) => serverSockets.add(socket));
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  port = (h.app.server.address() as AddressInfo).port;
  key = await h.newKey('acme');
  const tenant = await h.db.tenant.findUniqueOrThrow({ where: { name: 'acme' } });
  modelId = await storeTinyModel(tenant.id);
  image = await sharp({
    create: { width: 16, height: 16, channels: 3, background: { r: 200, g: 30, b: 30 } },
  })
    .png()
    .toBuffer();
});

afterAll(async () => {
  await h?.close();
});

const url = (path: string, at = port) => `http://127.0.0.1:${at}${path}`;
const auth = () => ({ authorization: `Bearer ${key}` });

/** Another app on the same database, Redis and store, with other admission settings. */
async function appWith(admission: Partial<AdmissionSettings>) {
  const config = { ...h.config, admission: { ...h.config.admission, ...admission } };
  const parts = wireApi(config);
  const app = await buildApp({ ...parts.app, logger: false });
  return {
    app,
    async close() {
      await app.close();
      await parts.close();
    },
  };
}

function predictJson(id: string, body: unknown, at = port) {
  return fetch(url(`/v1/models/${id}/predict`, at), {
    method: 'POST',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** A raw client that sends `head` and `start` of a body, then waits; resolves when the server closes it. */
function stalledClient(head: string, start: Buffer | string, at = port) {
  const socket = connect(at, '127.0.0.1');
  socket.on('error', () => undefined);
  socket.write(head);
  socket.write(start);
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(performance.now())),
  );
  return { socket, closed, received };
}

const tmpFiles = () => {
  try {
    return readdirSync(join(h.config.dataDir, 'tmp'));
  } catch {
    return [];
  }
};

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    if (check()) return true;
    await sleep(20);
  }
  return check();
}

const BOUNDARY = 'graftstall';
const uploadHead = (length: number) =>
  [
    'POST /v1/datasets HTTP/1.1',
    'Host: graft.test',
    `Authorization: Bearer ${key}`,
    `Content-Type: multipart/form-data; boundary=${BOUNDARY}`,
    `Content-Length: ${length}`,
    '',
    '',
  ].join('\r\n');
const filePartStart = Buffer.concat([
  Buffer.from(
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="d.zip"\r\nContent-Type: application/zip\r\n\r\n`,
  ),
  Buffer.alloc(256 * 1024, 7),
]);

describe('predict admission', () => {
  // First in the file: the inference thread starts with the first prediction, and the request
  // that starts it holds the one pending place while it does.
  it('answers 503 with Retry-After when the inference queue is full', async () => {
    const body = { image: image.toString('base64') };
    const answers = await Promise.all([predictJson(modelId, body), predictJson(modelId, body)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 503]);
    const [served, refused] = answers[0].status === 200 ? answers : [answers[1], answers[0]];
    const first = (await served.json()) as { predictions: { label: string }[] };
    expect(first.predictions.map((p) => p.label).sort()).toEqual(['left', 'right']);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect(await refused.json()).toMatchObject({ status: 503, code: 'busy' });
    // Free again once the first is answered.
    expect((await predictJson(modelId, body)).status).toBe(200);
  });

  it('answers 503 before auth and the body when the process holds its most predictions, and drops bodies that miss the deadline', async () => {
    const small = await appWith({ predictMaxInFlight: 2 });
    await small.app.listen({ host: '127.0.0.1', port: 0 });
    const at = (small.app.server.address() as AddressInfo).port;
    // Two clients that send the start of a body and then trickle, never finishing it.
    const head = [
      `POST /v1/models/${modelId}/predict HTTP/1.1`,
      'Host: graft.test',
      `Authorization: Bearer ${key}`,
      'Content-Type: application/json',
      'Content-Length: 100000',
      '',
      '',
    ].join('\r\n');
    const slow = [0, 1].map(() => stalledClient(head, '{"image": "', at));
    const trickle = setInterval(() => slow.forEach((c) => c.socket.write('A')), 200);
    const sent = performance.now();
    try {
      let refused: Response | undefined;
      for (let i = 0; i < 40 && !refused; i++) {
        const answer = await predictJson(modelId, { image: '%%%' }, at);
        if (answer.status === 503) refused = answer;
        else await sleep(25);
      }
      expect(refused?.headers.get('retry-after')).toBe('2');
      expect(await refused!.json()).toMatchObject({ status: 503, code: 'busy' });
      // Turned away on arrival: no key is even looked at.
      const keyless = await fetch(url(`/v1/models/${modelId}/predict`, at), { method: 'POST' });
      expect(keyless.status).toBe(503);
      // At the deadline the server drops the unfinished bodies and frees their places.
      const closedAt = await Promise.all(slow.map((c) => c.closed));
      for (const at of closedAt) expect(at - sent).toBeLessThan(DEADLINE_MS + 1500);
      const admitted = await predictJson(modelId, { image: '%%%' }, at);
      expect(admitted.status).toBe(400);
      expect(await admitted.json()).toMatchObject({ code: 'invalid_base64' });
    } finally {
      clearInterval(trickle);
      slow.forEach((c) => c.socket.destroy());
      await small.close();
    }
  });

  it('answers a flood of large bodies for a missing model with fast 404s, without reading them', async () => {
    const missing = randomUUID();
    const declared = 64 * 1024 ** 2;
    const chunk = Buffer.alloc(256 * 1024, 1);
    const rssBefore = process.memoryUsage().rss;
    serverSockets.clear();
    const flood = async () => {
      const started = performance.now();
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: `/v1/models/${missing}/predict`,
        agent: false,
        headers: {
          ...auth(),
          'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
          'content-length': declared,
        },
      });
      // Writing on after the answer, into a closed connection, fails: expected.
      req.on('error', () => undefined);
      const response = new Promise<IncomingMessage | Error>((resolve) => {
        req.once('response', resolve);
        req.once('error', resolve);
      });
      let answered = false;
      void response.then(() => (answered = true));
      // Send as fast as the server takes it, until it answers.
      for (let written = 0; !answered && written < declared; written += chunk.length) {
        if (!req.write(chunk))
          await new Promise((resume) => (req.once('drain', resume), void response.then(resume)));
      }
      const res = await response;
      req.destroy();
      if (res instanceof Error) return { status: res.message, ms: performance.now() - started };
      res.resume();
      return {
        status: res.statusCode,
        connection: res.headers.connection,
        ms: performance.now() - started,
      };
    };
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 50 }, flood));
    const elapsed = performance.now() - started;
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(404));
    expect(answers.every((a) => a.connection === 'close')).toBe(true);
    expect(elapsed).toBeLessThan(10_000);
    // 50 × 64 MiB were offered; the server read next to nothing of them, and kept no more.
    const read = [...serverSockets].reduce((sum, s) => sum + s.bytesRead, 0);
    expect(read).toBeLessThan(50 * 512 * 1024);
    // A small body refused early is read and dropped instead: the client keeps its connection.
    const small = await predictJson(missing, { image: image.toString('base64') });
    expect(small.status).toBe(404);
    expect(small.headers.get('connection')).not.toBe('close');
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 ** 2);
  });
});

describe('load shedding', () => {
  it('answers 503 with Retry-After on every route but the probes while over a limit; /readyz says so', async () => {
    // A heap limit of one byte: permanently "over".
    const shedding = await appWith({ maxHeapUsedBytes: 1 });
    const { app } = shedding;
    try {
      // Pressure is sampled once a second.
      await sleep(1300);
      const listed = await app.inject({ method: 'GET', url: '/v1/datasets', headers: auth() });
      expect(listed.statusCode).toBe(503);
      expect(listed.headers['retry-after']).toBe('10');
      expect(listed.json()).toMatchObject({ status: 503, code: 'overloaded' });
      expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toEqual({
        status: 'not_ready',
        postgres: true,
        redis: true,
        workers: expect.any(Number) as number,
        underPressure: true,
      });
    } finally {
      await shedding.close();
    }
  });

  it('reports readiness as up/down per dependency and a worker count, nothing more', async () => {
    const ready = await h.app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ready',
      postgres: true,
      redis: true,
      workers: expect.any(Number) as number,
      underPressure: false,
    });
  });
});

describe('uploads', () => {
  it('drops an upload that stalls, within the idle timeout, and removes its temporary file', async () => {
    const client = stalledClient(uploadHead(50 * 1024 ** 2), filePartStart);
    // The server is streaming it to a temporary file...
    expect(await until(() => tmpFiles().length === 1, 5000)).toBe(true);
    const stalledAt = performance.now();
    // ...until it has heard nothing for the idle timeout.
    const closedAt = await client.closed;
    expect(closedAt - stalledAt).toBeLessThan(IDLE_MS + 2000);
    expect(await until(() => tmpFiles().length === 0, 2000)).toBe(true);
  });

  it('removes the temporary file of an upload whose client goes away', async () => {
    const client = stalledClient(uploadHead(50 * 1024 ** 2), filePartStart);
    expect(await until(() => tmpFiles().length === 1, 5000)).toBe(true);
    client.socket.destroy();
    expect(await until(() => tmpFiles().length === 0, 2000)).toBe(true);
  });
});

describe('the prediction deadline', () => {
  it('answers 503 when the model runner has not answered in time, and takes the request out of its queue', async () => {
    let cancelled = false;
    const runner: ModelRunner = {
      // A runner that never answers: only the deadline ends the wait.
      predict: (_model, _images, signal) =>
        new Promise((_resolve, reject) =>
          signal!.addEventListener('abort', () => {
            cancelled = true;
            reject(signal!.reason as Error);
          }),
        ),
      evict: () => undefined,
    };
    const row = {
      id: modelId,
      artifactKey: `models/${modelId}`,
      labels: ['left', 'right'],
      preprocessing: { size: 8, resize: 'fill', valueRange: [0, 1], channelOrder: 'RGB' },
    };
    const models = { forServing: () => Promise.resolve(row) } as unknown as ModelsRepository;
    const limits = { maxInFlight: 1, decodeConcurrency: 1, timeoutMs: 300 };
    const service = new PredictionsService(models, runner, limits);
    const admitted = await service.admit('tenant', modelId);
    const started = performance.now();
    await expect(service.predict(admitted, [image], { topK: 5 })).rejects.toMatchObject({
      status: 503,
      code: 'prediction_timeout',
      details: { retryAfterSeconds: 2 },
    });
    expect(performance.now() - started).toBeLessThan(1500);
    expect(cancelled).toBe(true);
    admitted.end();
  });

  it('has as many places as it is told, never more, and takes back each given back', () => {
    const models = {} as ModelsRepository;
    const runner = {} as ModelRunner;
    const limits = { maxInFlight: 2, decodeConcurrency: 1, timeoutMs: 300 };
    const { places } = new PredictionsService(models, runner, limits);
    expect([places.tryTake(), places.tryTake(), places.tryTake()]).toEqual([true, true, false]);
    places.give();
    expect([places.tryTake(), places.tryTake()]).toEqual([true, false]);
  });
});
