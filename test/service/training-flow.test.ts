import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colourDataset, multipart } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';

let h: Harness;
let key: string;
let datasetId: string;

interface JobView {
  id: string;
  status: string;
  phase: string | null;
  progress: number;
  history: { phase: string; epoch: number; valAccuracy: number }[];
  modelId: string | null;
  error: string | null;
  backend: string | null;
  metrics: Record<string, unknown> | null;
}

beforeAll(async () => {
  h = await startHarness({ worker: true });
  key = await h.newKey('acme');
  const body = multipart('colours.zip', await colourDataset(6));
  const response = await h.app.inject({
    method: 'POST',
    url: '/v1/datasets',
    payload: body.payload,
    headers: { ...body.headers, authorization: `Bearer ${key}` },
  });
  datasetId = response.json<{ id: string }>().id;
});

afterAll(async () => {
  await h?.close();
});

const auth = () => ({ authorization: `Bearer ${key}` });
const submit = async (spec: Record<string, unknown>) =>
  (
    await h.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      payload: { datasetId, ...spec },
      headers: auth(),
    })
  ).json<JobView>();
const job = async (id: string) =>
  (await h.app.inject({ url: `/v1/jobs/${id}`, headers: auth() })).json<JobView>();

async function waitFor(
  id: string,
  done: (j: JobView) => boolean,
  timeoutMs = 120_000,
): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const current = await job(id);
    if (done(current)) return current;
    if (Date.now() > deadline)
      throw new Error(`job ${id} still ${current.status} (${current.phase}) after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('training through the queue and a sandboxed worker', () => {
  it('runs both phases, succeeds and lists the model with both phases’ metrics', async () => {
    const created = await submit({
      featureExtraction: { epochs: 3, batchSize: 8 },
      fineTuning: { epochs: 2, batchSize: 8 },
    });
    const finished = await waitFor(created.id, (j) => !['queued', 'running'].includes(j.status));
    expect(finished).toMatchObject({
      status: 'succeeded',
      progress: 1,
      backend: 'wasm',
      error: null,
    });
    // Phase 1 is the head search (one record), then each fine-tuning epoch.
    expect(finished.history.map((e) => `${e.phase}:${e.epoch}`)).toEqual([
      'featureExtraction:1',
      'fineTuning:1',
      'fineTuning:2',
    ]);
    const model = (
      await h.app.inject({ url: `/v1/models/${finished.modelId}`, headers: auth() })
    ).json<{
      labels: string[];
      baseModel: string;
      kept: string;
      jobId: string;
      datasetId: string;
      metrics: {
        featureExtraction: { confusionMatrix: number[][]; perClass: unknown[]; count: number };
        fineTuning: { count: number; confusionMatrix: number[][] };
        kept: string;
      };
    }>();
    expect(model).toMatchObject({
      labels: ['blue', 'red'],
      baseModel: 'mobilenet_v2_0.35',
      jobId: created.id,
      datasetId,
    });
    expect(model.metrics.featureExtraction.confusionMatrix).toHaveLength(2);
    expect(model.metrics.featureExtraction.perClass).toHaveLength(2);
    expect(model.metrics.fineTuning.count).toBe(model.metrics.featureExtraction.count);
    expect(model.metrics.fineTuning.confusionMatrix).toHaveLength(2);
    expect(['featureExtraction', 'fineTuning', 'baseline']).toContain(model.kept);
    const listed = (await h.app.inject({ url: '/v1/models', headers: auth() })).json<{
      items: { id: string }[];
    }>();
    expect(listed.items.map((m) => m.id)).toContain(finished.modelId);
    const modelRow = await h.db.model.findUniqueOrThrow({ where: { id: finished.modelId! } });
    for (const file of ['model.json', 'weights.bin', 'metadata.json']) {
      expect(existsSync(join(h.config.dataDir, 'artifacts', modelRow.artifactKey, file))).toBe(
        true,
      );
    }
    const ready = (await h.app.inject({ url: '/readyz' })).json<{
      workers: { backend: string }[];
    }>();
    expect(ready.workers.map((w) => w.backend)).toContain('wasm');
  });

  it('cancels a running job within seconds', async () => {
    const created = await submit({ fineTuning: { epochs: 1000, batchSize: 2, patience: 100 } });
    await waitFor(created.id, (j) => j.status === 'running' && j.phase === 'fineTuning');
    const asked = Date.now();
    const response = await h.app.inject({
      method: 'POST',
      url: `/v1/jobs/${created.id}/cancel`,
      headers: auth(),
    });
    expect(response.statusCode).toBe(202);
    const cancelled = await waitFor(created.id, (j) => j.status !== 'running', 15_000);
    expect(cancelled.status).toBe('cancelled');
    expect(Date.now() - asked).toBeLessThan(10_000);
    expect(await h.db.model.count({ where: { jobId: created.id } })).toBe(0);
  });

  it('records a job whose training throws as failed, with a readable error', async () => {
    const created = await submit({
      baseModel: 'https://127.0.0.1:9/nowhere/model.json',
      fineTuning: { enabled: false },
    });
    const failed = await waitFor(
      created.id,
      (j) => !['queued', 'running'].includes(j.status),
      60_000,
    );
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(
      /Could not download base model from https:\/\/127\.0\.0\.1:9\/nowhere\/model\.json/,
    );
    expect(failed.modelId).toBeNull();
  });
});
