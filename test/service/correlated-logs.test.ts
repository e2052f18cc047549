import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isTrainingJobPayload } from '../../src/contracts/training-job.js';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import { createLogger } from '../../src/observability/logger.js';
import type { TrainingReport } from '../../src/training/training-types.js';
import { recordWorkerFailure } from '../../src/worker/job-finish.js';
import type { TrainingJobDeps } from '../../src/worker/run-training-job.js';
import { deliverTrainingJob } from '../../src/worker/training-delivery.js';
import { file, formBody, injectClient } from '../client/graft-client.js';
import { colourDataset } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';
import { stubTrainer } from '../worker/stub-trainer.js';

/*
 * One id follows a request, and the job it queues, from the API to the worker: the request's
 * X-Request-Id (the client's, or a new one) comes back on every answer, travels in the job's
 * queue payload, and labels every line the worker logs about the job, with the job and tenant.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let h: Harness;
let key: string;
let datasetId: string;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  key = await h.newKey('acme');
  const { data } = await injectClient(h.app, key).POST(
    '/v1/datasets',
    formBody('/v1/datasets', { file: file(await colourDataset(3), 'colours.zip') }),
  );
  datasetId = data!.id;
});

afterAll(async () => {
  await h?.close();
});

const get = (url: string, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'GET', url, headers });

const createJob = (headers: Record<string, string> = {}) =>
  h.app.inject({
    method: 'POST',
    url: '/v1/jobs',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    payload: JSON.stringify({ datasetId, fineTuning: { enabled: false } }),
  });

describe('X-Request-Id', () => {
  it('comes back as the client sent it', async () => {
    const response = await get('/healthz', { 'x-request-id': 'abc-123' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-request-id']).toBe('abc-123');
  });

  it('is a new one when the client sent none, or one that is not acceptable', async () => {
    const ids: unknown[] = [];
    for (const sent of [undefined, 'has a space', 'x'.repeat(129), 'tab\there']) {
      const response = await get('/healthz', sent === undefined ? {} : { 'x-request-id': sent });
      ids.push(response.headers['x-request-id']);
    }
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(ids.length);
    // 128 printable characters are still the client's.
    const longest = '~'.repeat(128);
    expect((await get('/healthz', { 'x-request-id': longest })).headers['x-request-id']).toBe(
      longest,
    );
  });

  it('is on problems, 404s and /metrics too', async () => {
    for (const url of ['/v1/jobs', '/no/such/route', '/metrics']) {
      const response = await get(url, { 'x-request-id': `req-${url}` });
      expect(response.statusCode, url).toBeGreaterThanOrEqual(400);
      expect(response.headers['content-type'], url).toMatch(/^application\/problem\+json/);
      expect(response.headers['x-request-id'], url).toBe(`req-${url}`);
    }
  });
});

describe("a job's log lines", () => {
  it('carry the job, its tenant and the request that queued it, from API to worker', async () => {
    const created = await createJob({ 'x-request-id': 'abc-123' });
    expect(created.statusCode).toBe(202);
    expect(created.headers['x-request-id']).toBe('abc-123');
    const jobId = created.json<{ id: string }>().id;
    const { tenantId } = await h.db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });

    // The queue payload carries the request id (and the tenant), and is a valid payload.
    const delivered = await h.queue.getJob(jobId);
    expect(delivered!.data).toEqual({ version: 1, jobId, tenantId, requestId: 'abc-123' });
    expect(isTrainingJobPayload(delivered!.data)).toBe(true);

    // A worker delivers it (in this process, training stubbed), logging to a captured stream.
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({
      level: 'debug',
      destination: {
        write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
      },
    });
    const reported: TrainingReport[] = [];
    const deps: TrainingJobDeps = {
      jobs: new TrainingJobsRepository(h.db),
      datasets: new DatasetsRepository(h.db),
      store: h.store,
      train: stubTrainer().train,
      backendName: () => Promise.resolve('stub-backend'),
      progressIntervalMs: 60_000,
      limitsFor: () => Promise.resolve({ maxSeconds: 3600, maxSecondsSource: 'a test' }),
      logger,
      onTrained: (report) => reported.push(report),
    };
    expect(await deliverTrainingJob(deps, delivered!, undefined)).toBe('succeeded');
    expect(reported).toHaveLength(1);
    expect(lines.map((line) => line.msg)).toEqual(['training started', 'training ended']);
    expect(lines[1]).toMatchObject({ outcome: 'succeeded', attempt: 1 });
    for (const line of lines) expect(line).toMatchObject({ jobId, tenantId, requestId: 'abc-123' });

    // The worker process's own lines about the job (a failure outside the run) carry them too,
    // and a system error's detail is logged under the reference its owner is given.
    lines.length = 0;
    const failure = Object.assign(new Error('EIO: i/o error, read'), { code: 'EIO' });
    await recordWorkerFailure(deps.jobs, delivered, failure, logger);
    expect(lines.map((line) => line.msg)).toEqual([
      'the worker failed this job',
      expect.stringMatching(/^job failed with a system error \(reference [0-9a-f]{12}\)$/),
    ]);
    for (const line of lines) expect(line).toMatchObject({ jobId, tenantId, requestId: 'abc-123' });
    expect(lines[1]).toMatchObject({ level: 50, detail: expect.stringContaining('EIO') as string });
  });

  it('carry the generated request id when the client sent none', async () => {
    const created = await createJob();
    expect(created.statusCode).toBe(202);
    const requestId = created.headers['x-request-id'];
    expect(requestId).toMatch(UUID);
    const delivered = await h.queue.getJob(created.json<{ id: string }>().id);
    expect(delivered!.data.requestId).toBe(requestId);
  });

  it('payloads without the labels (queued before them, or by the reaper) stay valid', () => {
    const jobId = '00000000-0000-4000-8000-000000000000';
    expect(isTrainingJobPayload({ version: 1, jobId })).toBe(true);
    expect(isTrainingJobPayload({ version: 1, jobId, requestId: 'x'.repeat(128) })).toBe(true);
    expect(isTrainingJobPayload({ version: 1, jobId, requestId: 'x'.repeat(129) })).toBe(false);
    expect(isTrainingJobPayload({ version: 1, jobId, requestId: '' })).toBe(false);
    expect(isTrainingJobPayload({ version: 1, jobId, other: 'field' })).toBe(false);
  });
});
