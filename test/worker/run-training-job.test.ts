import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import { createLogger } from '../../src/observability/logger.js';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import { LocalArtifactStore } from '../../src/storage/artifact-store.js';
import { reportSummary } from '../../src/training/report-summary.js';
import { recordWorkerFailure } from '../../src/worker/job-finish.js';
import { runTrainingJob, type TrainingJobDeps } from '../../src/worker/run-training-job.js';
import { seedJob } from './job-seeds.js';
import { epochEnd, fakeReport, stubTrainer, type StubTrainer } from './stub-trainer.js';
import { startTestDatabase, type TestDatabase } from './worker-database.js';

let database: TestDatabase;
let jobs: TrainingJobsRepository;
let storeRoot: string;
let store: LocalArtifactStore;
let backendLoads: number;

beforeAll(async () => {
  database = await startTestDatabase();
  jobs = new TrainingJobsRepository(database.db);
});

afterAll(async () => {
  await database?.close();
});

beforeEach(() => {
  storeRoot = mkdtempSync(join(tmpdir(), 'graft-worker-store-'));
  store = new LocalArtifactStore(storeRoot);
  backendLoads = 0;
});

const depsWith = (trainer: StubTrainer): TrainingJobDeps => ({
  jobs,
  datasets: new DatasetsRepository(database.db),
  store,
  train: trainer.train,
  backendName: () => {
    backendLoads++;
    return Promise.resolve('stub-backend');
  },
  // Only the first write and epoch ends are written: no timing in these tests.
  progressIntervalMs: 60_000,
  limitsFor: () => Promise.resolve({ maxSeconds: 3600, maxSecondsSource: 'a test' }),
});

const jobRow = (id: string) => database.db.trainingJob.findUniqueOrThrow({ where: { id } });
const modelsOf = (jobId: string) => database.db.model.findMany({ where: { jobId } });
/** Model folders in the artifact store (the dataset's images live elsewhere). */
const storedModels = (): string[] =>
  existsSync(join(storeRoot, 'models')) ? readdirSync(join(storeRoot, 'models')) : [];

describe('runTrainingJob', () => {
  it('skips a delivery whose job row is gone, without training', async () => {
    const trainer = stubTrainer();
    expect(await runTrainingJob(depsWith(trainer), randomUUID())).toBe('skipped');
    expect(trainer.runs).toHaveLength(0);
    expect(backendLoads).toBe(0);
    expect(storedModels()).toEqual([]);
  });

  it('fails a job whose dataset was deleted before it started, without training', async () => {
    const { jobId, datasetId } = await seedJob(database.db, store);
    await database.db.dataset.delete({ where: { id: datasetId } });
    const trainer = stubTrainer();
    expect(await runTrainingJob(depsWith(trainer), jobId)).toBe('failed');
    expect(await jobRow(jobId)).toMatchObject({
      status: 'failed',
      error: 'its dataset was deleted before training started',
      datasetId: null,
      backend: null,
    });
    expect(trainer.runs).toHaveLength(0);
    expect(backendLoads).toBe(0);
  });

  it('cancels, without training, a redelivered job whose cancel flag is set', async () => {
    const { jobId } = await seedJob(database.db, store, {
      status: 'running',
      cancelRequested: true,
      startedAt: new Date(),
    });
    const trainer = stubTrainer();
    expect(await runTrainingJob(depsWith(trainer), jobId)).toBe('cancelled');
    const row = await jobRow(jobId);
    expect(row).toMatchObject({ status: 'cancelled', error: null, metrics: null });
    expect(row.finishedAt).toBeInstanceOf(Date);
    expect(trainer.runs).toHaveLength(0);
    expect(await modelsOf(jobId)).toEqual([]);
  });

  it('restarts a stalled running job that has no checkpoint from the start and stores its model', async () => {
    const { jobId, datasetId } = await seedJob(database.db, store, {
      status: 'running',
      backend: 'a-dead-worker',
      progress: 0.6,
      history: [
        { phase: 'fineTuning', epoch: 3, loss: 1, accuracy: 0, valLoss: 1, valAccuracy: 0 },
      ],
      startedAt: new Date(),
    });
    const trainer = stubTrainer();
    expect(await runTrainingJob(depsWith(trainer), jobId)).toBe('succeeded');
    expect(trainer.runs).toHaveLength(1);
    expect(trainer.runs[0]!.examples).toEqual([
      {
        key: `datasets/${datasetId}/blue-0.jpg`,
        label: 'blue',
        split: 'train',
        contentHash: 'hash-of-blue',
      },
      { key: `datasets/${datasetId}/red-0.jpg`, label: 'red', contentHash: 'hash-of-red' },
    ]);
    const summary = JSON.parse(JSON.stringify(reportSummary(fakeReport()))) as unknown;
    expect(await jobRow(jobId)).toMatchObject({
      status: 'succeeded',
      progress: 1,
      backend: 'stub-backend',
      error: null,
      metrics: summary,
      history: [
        {
          phase: 'featureExtraction',
          epoch: 1,
          loss: 0.4,
          accuracy: 0.8,
          valLoss: 0.5,
          valAccuracy: 0.75,
        },
      ],
    });
    const [model] = await modelsOf(jobId);
    expect(model).toMatchObject({
      datasetId,
      baseModel: 'stub-base',
      labels: ['blue', 'red'],
      inputSize: 24,
      kept: 'featureExtraction',
      metrics: summary,
      artifactKey: `models/${model!.id}`,
    });
    expect(storedModels()).toEqual([model!.id]);
    const modelJson = join(storeRoot, 'models', model!.id, 'model.json');
    expect(readFileSync(modelJson, 'utf8')).toBe('model.json of a stub');
  });

  it('cancels a job whose cancel arrives after training: no model, artifacts removed', async () => {
    const { jobId, tenantId } = await seedJob(database.db, store);
    const trainer = stubTrainer({
      // No progress writes: the cancel lands after the last time the flag was read.
      progress: false,
      during: async () => {
        expect(await jobs.requestCancel(tenantId, jobId)).toBe('running');
      },
    });
    expect(await runTrainingJob(depsWith(trainer), jobId)).toBe('cancelled');
    expect(trainer.runs).toHaveLength(1);
    expect(trainer.runs[0]!.signal.aborted).toBe(false);
    expect(await jobRow(jobId)).toMatchObject({ status: 'cancelled', metrics: null, error: null });
    expect(await modelsOf(jobId)).toEqual([]);
    expect(storedModels()).toEqual([]);
  });

  it('fails the job with the trainer’s message and removes its artifacts', async () => {
    const { jobId } = await seedJob(database.db, store);
    const trainer = stubTrainer({ error: new Error('decoding ran out of memory') });
    expect(await runTrainingJob(depsWith(trainer), jobId)).toBe('failed');
    expect(trainer.runs).toHaveLength(1);
    expect(await jobRow(jobId)).toMatchObject({
      status: 'failed',
      error: 'decoding ran out of memory',
      metrics: null,
    });
    expect(await modelsOf(jobId)).toEqual([]);
    expect(storedModels()).toEqual([]);
  });

  it('never stores a server path or a system error for the user to read', async () => {
    const { jobId } = await seedJob(database.db, store);
    const full = Object.assign(
      new Error("ENOSPC: no space left on device, write '/var/lib/graft/models/x/weights.bin'"),
      { code: 'ENOSPC' },
    );
    const logged: string[] = [];
    const logger = createLogger({
      destination: { write: (line: string) => void logged.push(line) },
    });
    expect(await runTrainingJob({ ...depsWith(stubTrainer({ error: full })), logger }, jobId)).toBe(
      'failed',
    );
    const { error } = await jobRow(jobId);
    expect(error).toMatch(
      /^the server hit a system error \(ENOSPC\); try again later, and give the operator reference ([0-9a-f]{12}) if it persists$/,
    );
    const reference = /reference ([0-9a-f]{12})/.exec(error ?? '')![1]!;
    // The operator's log has the whole error under that reference.
    const line = logged.find((l) => l.includes('system error'));
    expect(line).toContain(`reference ${reference}`);
    expect(line).toContain('/var/lib/graft/models/x/weights.bin');
    const other = await seedJob(database.db, store);
    const pathy = new Error(
      'could not open /srv/graft/data/tmp/abc.partial (see https://example.com/a/b)',
    );
    await runTrainingJob(depsWith(stubTrainer({ error: pathy })), other.jobId);
    expect((await jobRow(other.jobId)).error).toBe(
      'could not open …/abc.partial (see https://example.com/a/b)',
    );
  });

  it('aborts training when a progress write reads the cancel flag: cancelled', async () => {
    const { jobId, tenantId } = await seedJob(database.db, store);
    const trainer = stubTrainer({
      progress: false,
      during: async (run) => {
        await jobs.requestCancel(tenantId, jobId);
        run.onProgress(epochEnd);
        await abortOf(run.signal);
        throw run.signal.reason;
      },
    });
    expect(await runTrainingJob(depsWith(trainer), jobId)).toBe('cancelled');
    expect(await jobRow(jobId)).toMatchObject({ status: 'cancelled', error: null });
    expect(storedModels()).toEqual([]);
  });

  it('stops a job at its wall-time limit: failed with that reason, artifacts removed', async () => {
    const { jobId } = await seedJob(database.db, store);
    const trainer = stubTrainer({
      during: async (run) => {
        await abortOf(run.signal);
        throw run.signal.reason;
      },
    });
    const deps: TrainingJobDeps = {
      ...depsWith(trainer),
      limitsFor: () =>
        Promise.resolve({ maxSeconds: 1, maxSecondsSource: 'GRAFT_QUOTA_WALL_SECONDS' }),
    };
    const started = Date.now();
    expect(await runTrainingJob(deps, jobId)).toBe('failed');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(await jobRow(jobId)).toMatchObject({
      status: 'failed',
      error: 'stopped after its wall-time limit of 1 s (GRAFT_QUOTA_WALL_SECONDS)',
      metrics: null,
    });
    expect(await modelsOf(jobId)).toEqual([]);
    expect(storedModels()).toEqual([]);
  });
});

describe('recordWorkerFailure', () => {
  it('marks the row failed on BullMQ’s failed event, and only an active row', async () => {
    const { jobId } = await seedJob(database.db, store, { status: 'running' });
    const stalled = new Error('job stalled more than allowable limit');
    const delivery = { data: { version: 1, jobId } };
    expect(await recordWorkerFailure(jobs, delivery, stalled)).toBe(true);
    expect(await jobRow(jobId)).toMatchObject({
      status: 'failed',
      error: 'the worker failed: job stalled more than allowable limit',
    });
    // A second event for the same job, a job BullMQ lost, and a foreign payload change nothing.
    expect(await recordWorkerFailure(jobs, delivery, new Error('again'))).toBe(false);
    expect(await recordWorkerFailure(jobs, undefined, stalled)).toBe(false);
    expect(await recordWorkerFailure(jobs, { data: { jobId } }, stalled)).toBe(false);
    expect((await jobRow(jobId)).error).toBe(
      'the worker failed: job stalled more than allowable limit',
    );
  });
});

/** Resolves when `signal` aborts; rejects after a few seconds so a missed abort fails fast. */
function abortOf(signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('training was never aborted')), 5000);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}
