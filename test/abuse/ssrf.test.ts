import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import { runTransfer, type TransferRunOptions } from '../../src/services/transfer-run.js';
import { artifactStoreFor } from '../../src/storage/artifact-store.js';
import { runTrainingJob } from '../../src/worker/run-training-job.js';
import { startTrainingWorker, type RunningWorker } from '../../src/worker/training-worker.js';
import { file, formBody, injectClient, type GraftClient } from '../client/graft-client.js';
import type { components } from '../client/openapi-types.js';
import { colourDataset } from '../helpers/dataset-zips.js';
import {
  startHttpsServer,
  testCertificate,
  type TestHttpsServer,
} from '../helpers/https-model-server.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';

/*
 * Server-side request forgery through POST /v1/jobs `baseModel`, against the real API (and the
 * real worker where the refusal happens at download). Every server here listens on 127.0.0.1;
 * the private and metadata addresses are only ever named, and refused before any connection.
 */

type Job = components['schemas']['Job'];

/** Says the same whatever the network answered: no status, address, port or error code. */
const NETWORK_DETAIL =
  /\b(HTTP|30[1-8]|40\d|50\d|ECONN\w+|ENOTFOUND|ETIMEDOUT|timed out|127\.0\.0\.1|::1)\b/;

async function uploadDataset(api: GraftClient): Promise<string> {
  const { data, response } = await api.POST(
    '/v1/datasets',
    formBody('/v1/datasets', { file: file(await colourDataset(2), 'colours.zip') }),
  );
  expect(response.status).toBe(201);
  return data!.id;
}

async function waitForEnd(api: GraftClient, id: string, timeoutMs = 60_000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { data } = await api.GET('/v1/jobs/{id}', { params: { path: { id } } });
    if (data && !['queued', 'running'].includes(data.status)) return data;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${data?.status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

let target: TestHttpsServer;

beforeAll(async () => {
  // What every refused URL points at where it can: it must never see a connection.
  target = await startHttpsServer((_req, res) => res.writeHead(500).end());
});

afterAll(async () => {
  await target?.close();
});

describe('base-model URLs off (the default)', () => {
  let h: Harness;
  let api: GraftClient;
  let datasetId: string;

  beforeAll(async () => {
    h = await startHarness({
      worker: false,
      env: { GRAFT_ALLOW_BASE_URLS: '', GRAFT_RATE_LIMITS: 'off' },
    });
    api = injectClient(h.app, await h.newKey('mallory'));
    datasetId = await uploadDataset(api);
  });

  afterAll(async () => {
    await h?.close();
  });

  it.each([
    (port: number) => `https://127.0.0.1:${port}/model.json`,
    (port: number) => `https://localhost:${port}/model.json`,
    () => 'https://models.example.com/mobilenet/model.json',
    () => 'https://169.254.169.254/latest/meta-data/',
    (port: number) => `http://localhost:${port}/model.json`,
    () => 'file:///etc/passwd',
    () => 'ftp://models.example.com/model.json',
  ])('refuses any URL with 422 base_model_urls_disabled (%#)', async (url) => {
    const baseModel = url(target.port);
    const { error, response } = await api.POST('/v1/jobs', { body: { datasetId, baseModel } });
    expect(response.status).toBe(422);
    expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(error).toMatchObject({
      status: 422,
      code: 'base_model_urls_disabled',
      detail: expect.stringMatching(/GET \/v1\/base-models.*GRAFT_ALLOW_BASE_URLS/) as string,
    });
    expect(await h.db.trainingJob.count()).toBe(0);
    expect(target.connections()).toBe(0);
  });
});

describe('base-model URLs allowed for some hosts (GRAFT_ALLOW_BASE_URLS)', () => {
  const ALLOWED = 'localhost,127.0.0.1,[::1],[::ffff:7f00:1],169.254.169.254,10.0.0.1';
  let h: Harness;
  let api: GraftClient;
  let datasetId: string;
  let site: TestHttpsServer;

  beforeAll(async () => {
    h = await startHarness({
      worker: false,
      env: { GRAFT_ALLOW_BASE_URLS: ALLOWED, GRAFT_RATE_LIMITS: 'off' },
    });
    api = injectClient(h.app, await h.newKey('mallory'));
    datasetId = await uploadDataset(api);
    // An allowed host that answers every request with a redirect to a loopback address.
    site = await startHttpsServer((req, res) => {
      const to = req.url?.includes('/ipv6/')
        ? `https://[::ffff:127.0.0.1]:${target.port}/model.json`
        : `https://127.0.0.1:${target.port}/model.json`;
      res.writeHead(302, { location: to }).end();
    });
  });

  afterAll(async () => {
    await site?.close();
    await h?.close();
    delete process.env.GRAFT_ALLOW_BASE_URLS;
  });

  const submit = (baseModel: string) => api.POST('/v1/jobs', { body: { datasetId, baseModel } });

  it.each([
    ['loopback', (p: number) => `https://127.0.0.1:${p}/model.json`, /not public/],
    ['loopback, short form', (p: number) => `https://127.1:${p}/model.json`, /not public/],
    ['loopback, decimal', (p: number) => `https://2130706433:${p}/model.json`, /not public/],
    ['loopback, hex', (p: number) => `https://0x7f000001:${p}/model.json`, /not public/],
    ['IPv6 loopback', (p: number) => `https://[::1]:${p}/model.json`, /not public/],
    ['IPv4-mapped', (p: number) => `https://[::ffff:127.0.0.1]:${p}/model.json`, /not public/],
    ['metadata', () => 'https://169.254.169.254/latest/meta-data/iam/', /not public/],
    ['private', () => 'https://10.0.0.1/model.json', /not public/],
    ['http scheme', (p: number) => `http://localhost:${p}/model.json`, /only https/],
    ['file scheme', () => 'file:///etc/passwd', /only https/],
    ['credentials', (p: number) => `https://u:p@localhost:${p}/model.json`, /user name/],
    ['a host off the list', () => 'https://models.example.com/model.json', /allow-list/],
  ])('refuses %s at the API with 422, naming the allowed hosts', async (_name, url, reason) => {
    const { error, response } = await submit(url(target.port));
    expect(response.status).toBe(422);
    expect(error).toMatchObject({
      code: 'base_model_url_not_allowed',
      detail: expect.stringMatching(reason) as string,
      allowedHosts: ALLOWED.split(','),
    });
    expect(error!.detail).toContain('may name these hosts: localhost, 127.0.0.1');
    expect(target.connections()).toBe(0);
  });

  it('refuses a redirect from an allowed https server to loopback, at that hop', async () => {
    // The worker, in this process, with the test-only fence: loopback only for the name
    // `localhost` (the allowed server), and the test's self-signed certificate.
    const ca = (await testCertificate()).cert;
    const deps = {
      jobs: new TrainingJobsRepository(h.db),
      datasets: new DatasetsRepository(h.db),
      store: artifactStoreFor(h.config.storage),
      train: (run: Omit<TransferRunOptions, 'config'>) =>
        runTransfer(
          { ...run, config: h.config },
          { trust: 'tenant', fence: { allowLoopbackFor: ['localhost'], ca } },
        ),
      backendName: () => Promise.resolve('wasm'),
      progressIntervalMs: 1000,
      limitsFor: () => Promise.resolve({ maxSeconds: 3600, maxSecondsSource: 'a test' }),
    };
    for (const path of ['ipv4', 'ipv6']) {
      const baseModel = `${site.origin}/${path}/model.json`;
      const { data, response } = await submit(baseModel);
      expect(response.status).toBe(202);
      const before = site.connections();
      expect(await runTrainingJob(deps, data!.id)).toBe('failed');
      const job = await waitForEnd(api, data!.id);
      expect(job.error).toBe(
        `the base model at ${baseModel} could not be downloaded: the host is not allowed`,
      );
      expect(job.error).not.toMatch(NETWORK_DETAIL);
      expect(job.error).not.toContain(String(target.port));
      expect(site.connections()).toBe(before + 1);
    }
    expect(target.connections()).toBe(0);
  });

  describe('in the sandboxed worker', () => {
    let worker: RunningWorker;
    const jobs: { id: string; baseModel: string }[] = [];

    beforeAll(async () => {
      // A name on the allow-list that resolves to loopback: only DNS at download can tell.
      const named = `https://localhost:${target.port}/model.json`;
      // Jobs queued before the allow-list changed (or past a buggy API): the worker decides
      // again, so here their specs name loopback literals after the API accepted them.
      const literals = [
        `https://127.0.0.1:${target.port}/model.json`,
        `https://[::ffff:127.0.0.1]:${target.port}/model.json`,
        `https://2130706433:${target.port}/model.json`,
      ];
      for (const baseModel of [named, ...literals]) {
        const { data, response } = await submit(named);
        expect(response.status).toBe(202);
        const row = await h.db.trainingJob.findUniqueOrThrow({ where: { id: data!.id } });
        const spec = { ...(row.spec as Record<string, unknown>), baseModel };
        await h.db.trainingJob.update({ where: { id: data!.id }, data: { spec } });
        jobs.push({ id: data!.id, baseModel });
      }
      worker = await startTrainingWorker(h.config, h.db);
    });

    afterAll(async () => {
      await worker?.close();
    });

    it('fails the jobs with what the user can fix, before any connection', async () => {
      for (const { id, baseModel } of jobs) {
        const job = await waitForEnd(api, id);
        expect(job).toMatchObject({ status: 'failed', modelId: null });
        expect(job.error).toBe(
          `the base model at ${baseModel} could not be downloaded: the host is not allowed`,
        );
        expect(job.error!.replace(baseModel, '')).not.toMatch(NETWORK_DETAIL);
      }
      expect(target.connections()).toBe(0);
    });
  });
});
