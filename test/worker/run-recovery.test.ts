import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import { LocalArtifactStore } from '../../src/storage/artifact-store.js';
import type { FeaturesCheckpoint } from '../../src/training/checkpoint-types.js';
import { DatabaseLost, DRAIN_REASON, RunSuperseded } from '../../src/worker/job-outcome.js';
import { recordWorkerFailure } from '../../src/worker/job-finish.js';
import { runTrainingJob, type TrainingJobDeps } from '../../src/worker/run-training-job.js';
import { seedJob } from './job-seeds.js';
import { epochEnd, stubTrainer, type StubTrainer } from './stub-trainer.js';
import { startTestDatabase, type TestDatabase } from './worker-database.js';

/*
 * Runs that survive their worker: a redelivered job continues from the checkpoints an earlier
 * attempt saved, a run another one took over writes nothing more, a draining worker hands its
 * job back with its progress, and a job that ends leaves no checkpoints.
 */

let database: TestDatabase;
let jobs: TrainingJobsRepository;
const storeRoot = mkdtempSync(join(tmpdir(), 'graft-recovery-store-'));
const store = new LocalArtifactStore(storeRoot);

beforeAll(async () => {
  database = await startTestDatabase();
  jobs = new TrainingJobsRepository(database.db);
});

afterAll(async () => {
  await database?.close();
});

const depsWith = (trainer: StubTrainer): TrainingJobDeps => ({
  jobs,
  datasets: new DatasetsRepository(database.db),
  store,
  train: trainer.train,
  backendName: () => Promise.resolve('stub-backend'),
  progressIntervalMs: 0,
  limitsFor: () => Promise.resolve({ maxSeconds: 3600, maxSecondsSource: 'a test' }),
});

const jobRow = (id: string) => database.db.trainingJob.findUniqueOrThrow({ where: { id } });
const checkpointsOf = (jobId: string) => existsSync(join(storeRoot, 'checkpoints', jobId));

const features = (): FeaturesCheckpoint => ({
  context: 'a tiny base',
  train: {
    blocks: {},
    y: new Int32Array([0, 1]),
    keys: ['a', 'b'],
    groups: ['a', 'b'],
    mirrored: new Uint8Array(2),
  },
  val: {
    blocks: {},
    y: new Int32Array([1]),
    keys: ['c'],
    groups: ['c'],
    mirrored: new Uint8Array(1),
  },
  skipped: [],
  cacheSeconds: 4,
});

describe('a run that survives its worker', () => {
  it('saves checkpoints under its attempt, and the next attempt reads them and says it resumed', async () => {
    const { jobId } = await seedJob(database.db, store);
    // Attempt 1 saves its features, then its worker dies (the run never ends).
    let died!: () => void;
    const dead = new Promise<void>((resolve) => (died = resolve));
    const first = stubTrainer({
      during: async (run) => {
        await run.checkpoints.saveFeatures(features());
        run.onProgress({ ...epochEnd, progress: 0.6 });
        died();
        await new Promise(() => undefined);
      },
    });
    void runTrainingJob(depsWith(first), jobId);
    await dead;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await jobRow(jobId)).toMatchObject({ status: 'running', attempt: 1 });
    expect(existsSync(join(storeRoot, 'checkpoints', jobId, '1', 'features.ckpt'))).toBe(true);

    // BullMQ delivers it again: attempt 2 continues from attempt 1's checkpoint (the core says
    // so once it has checked the checkpoint fits).
    const second = stubTrainer({
      progress: false,
      during: (run) => {
        run.checkpoints.restored?.({ stage: 'features' });
        run.checkpoints.restored?.({ stage: 'fineTuning', epoch: 3 });
        return Promise.resolve();
      },
    });
    expect(await runTrainingJob(depsWith(second), jobId)).toBe('succeeded');
    const restored = second.runs[0]!.checkpoints.features;
    expect(restored?.cacheSeconds).toBe(4);
    expect(restored?.train.y).toEqual(new Int32Array([0, 1]));
    const row = await jobRow(jobId);
    expect(row).toMatchObject({ status: 'succeeded', attempt: 2 });
    // One entry per run, the furthest it got; progress never went below what was shown.
    expect(row.resumes).toEqual([
      {
        attempt: 2,
        fromAttempt: 1,
        stage: 'fineTuning',
        epoch: 3,
        at: expect.any(String) as string,
      },
    ]);
    expect(checkpointsOf(jobId)).toBe(false);
  });

  it('ignores the checkpoints of another spec or dataset (fingerprint)', async () => {
    const { jobId } = await seedJob(database.db, store, { status: 'running', attempt: 1 });
    const { encodeCheckpoint } = await import('../../src/storage/training-checkpoints.js');
    await store.put(
      `checkpoints/${jobId}/1/features.ckpt`,
      encodeCheckpoint({ fingerprint: 'of another job', checkpoint: features() }),
    );
    const trainer = stubTrainer({ progress: false });
    expect(await runTrainingJob(depsWith(trainer), jobId)).toBe('succeeded');
    expect(trainer.runs[0]!.checkpoints.features).toBeUndefined();
    expect((await jobRow(jobId)).resumes).toEqual([]);
  });

  it('stops a run another run took over: it writes nothing more and leaves the job alone', async () => {
    const { jobId } = await seedJob(database.db, store);
    const trainer = stubTrainer({
      during: async (run) => {
        // Another worker took the job (its lock lapsed): a newer attempt.
        await database.db.trainingJob.update({
          where: { id: jobId },
          data: { attempt: { increment: 1 } },
        });
        run.onProgress({ ...epochEnd, progress: 0.9 });
        await new Promise((resolve) => setTimeout(resolve, 300));
        run.signal.throwIfAborted();
      },
    });
    expect(await runTrainingJob(depsWith(trainer), jobId)).toBe('skipped');
    // Stopped by its own progress write finding the job taken, not by anything else.
    expect(trainer.runs[0]!.signal.reason).toBeInstanceOf(RunSuperseded);
    const row = await jobRow(jobId);
    expect(row).toMatchObject({ status: 'running', attempt: 2, error: null });
    expect(row.progress).toBeLessThan(0.9);
    expect(await database.db.model.count({ where: { jobId } })).toBe(0);
  });

  it('hands its job back when its worker drains, keeping progress and checkpoints', async () => {
    const { jobId } = await seedJob(database.db, store);
    const drain = new AbortController();
    const trainer = stubTrainer({
      during: async (run) => {
        await run.checkpoints.saveFeatures(features());
        run.onProgress({ ...epochEnd, progress: 0.4 });
        drain.abort(DRAIN_REASON);
        run.signal.throwIfAborted();
      },
    });
    expect(await runTrainingJob(depsWith(trainer), jobId, drain.signal)).toBe('handed-back');
    const row = await jobRow(jobId);
    expect(row).toMatchObject({ status: 'queued', attempt: 1, progress: 0.4, error: null });
    expect(checkpointsOf(jobId)).toBe(true);
    // The next worker claims it again and continues.
    const next = stubTrainer({ progress: false });
    expect(await runTrainingJob(depsWith(next), jobId)).toBe('succeeded');
    expect(next.runs[0]!.checkpoints.features?.cacheSeconds).toBe(4);
    expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded', attempt: 2 });
    expect(checkpointsOf(jobId)).toBe(false);
  });

  it('removes the checkpoints of a job that fails', async () => {
    const { jobId } = await seedJob(database.db, store);
    const trainer = stubTrainer({
      during: (run) => run.checkpoints.saveFeatures(features()),
      error: new Error('classWeights names a class this dataset lacks'),
    });
    expect(await runTrainingJob(depsWith(trainer), jobId)).toBe('failed');
    expect(checkpointsOf(jobId)).toBe(false);
  });

  it('leaves the job running with its checkpoints when PostgreSQL goes away as it ends', async () => {
    const { jobId } = await seedJob(database.db, store);
    // The database drops the connection just as the run records its success.
    const lostAtTheEnd = Object.assign(Object.create(jobs) as TrainingJobsRepository, {
      succeed: () => Promise.reject(new Error('Connection terminated unexpectedly')),
    });
    const trainer = stubTrainer({ during: (run) => run.checkpoints.saveFeatures(features()) });
    const failure = await runTrainingJob(
      { ...depsWith(trainer), jobs: lostAtTheEnd, databaseRetryMs: 0 },
      jobId,
    ).catch((error: unknown) => error as Error);
    expect(failure).toBeInstanceOf(DatabaseLost);
    // BullMQ's failed handler leaves it to the reaper, which queues it again.
    expect(await recordWorkerFailure(jobs, { data: { version: 1, jobId } }, failure as Error)).toBe(
      false,
    );
    expect(await jobRow(jobId)).toMatchObject({ status: 'running', error: null });
    expect(checkpointsOf(jobId)).toBe(true);
  });

  it('waits out a short PostgreSQL outage before recording a finished training', async () => {
    const { jobId } = await seedJob(database.db, store);
    let refused = 0;
    const back = jobs.succeed.bind(jobs);
    const flaky = Object.assign(Object.create(jobs) as TrainingJobsRepository, {
      succeed: (...args: Parameters<TrainingJobsRepository['succeed']>) =>
        ++refused <= 2
          ? Promise.reject(new Error('Connection terminated unexpectedly'))
          : back(...args),
    });
    const trainer = stubTrainer({ progress: false });
    expect(
      await runTrainingJob({ ...depsWith(trainer), jobs: flaky, databaseRetryMs: 10_000 }, jobId),
    ).toBe('succeeded');
    expect(refused).toBe(3);
    expect(await jobRow(jobId)).toMatchObject({ status: 'succeeded' });
  });
});
