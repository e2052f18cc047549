import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import type { ProgressEvent } from '../../src/services/job-events.js';
import { LocalArtifactStore } from '../../src/storage/artifact-store.js';
import type { TrainingProgress } from '../../src/training/training-types.js';
import { ProgressRecorder } from '../../src/worker/progress-recorder.js';
import { seedJob } from './job-seeds.js';
import { epochEnd } from './stub-trainer.js';
import { startTestDatabase, type TestDatabase } from './worker-database.js';

let database: TestDatabase;
let jobs: TrainingJobsRepository;
const store = new LocalArtifactStore(mkdtempSync(join(tmpdir(), 'graft-progress-store-')));

beforeAll(async () => {
  database = await startTestDatabase();
  jobs = new TrainingJobsRepository(database.db);
});

afterAll(async () => {
  await database?.close();
});

const batch = (progress: number): TrainingProgress => ({
  stage: 'featureExtraction',
  epoch: 1,
  epochs: 2,
  batch: 1,
  batches: 4,
  loss: 0.7,
  imagesPerSecond: 50,
  progress,
  etaSeconds: 9,
});

async function runningJob(): Promise<string> {
  const { jobId } = await seedJob(database.db, store, { status: 'running' });
  return jobId;
}

describe('ProgressRecorder', () => {
  it('writes the first batch, skips batches within the interval, always writes epoch ends', async () => {
    const jobId = await runningJob();
    const recorder = new ProgressRecorder(jobs, jobId, {
      attempt: 0,
      intervalMs: 60_000,
      onCancelRequested: () => undefined,
      onSuperseded: () => undefined,
    });
    const row = () => database.db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
    recorder.record(batch(0.1));
    recorder.record({
      stage: 'features',
      batch: 2,
      batches: 4,
      imagesPerSecond: 50,
      progress: 0.2,
      etaSeconds: 8,
    });
    await recorder.settled();
    expect(await row()).toMatchObject({
      phase: 'featureExtraction',
      progress: 0.1,
      epoch: 1,
      epochs: 2,
      history: [],
    });
    // The core reports 1 when done; 'succeeded' is the only state that says so.
    recorder.record({ ...epochEnd, epoch: 2, epochs: 2, progress: 1 });
    await recorder.settled();
    const entry = {
      phase: 'featureExtraction',
      epoch: 2,
      loss: 0.4,
      accuracy: 0.8,
      valLoss: 0.5,
      valAccuracy: 0.75,
    };
    expect(recorder.history).toEqual([entry]);
    expect(await row()).toMatchObject({
      progress: 0.99,
      epoch: 2,
      etaSeconds: 1,
      history: [entry],
    });
  });

  it('keeps a missing training accuracy as null, and reads the cancel flag on each write', async () => {
    const jobId = await runningJob();
    let cancels = 0;
    const recorder = new ProgressRecorder(jobs, jobId, {
      attempt: 0,
      intervalMs: 0,
      onCancelRequested: () => cancels++,
      onSuperseded: () => undefined,
    });
    recorder.record({ ...epochEnd, accuracy: undefined });
    await recorder.settled();
    expect(cancels).toBe(0);
    await database.db.trainingJob.update({ where: { id: jobId }, data: { cancelRequested: true } });
    recorder.record(batch(0.6));
    await recorder.settled();
    expect(cancels).toBe(1);
    expect(recorder.history[0]).toMatchObject({ loss: 0.4, accuracy: null });
  });

  it('stops writing once another run took the job (a newer attempt), and says so', async () => {
    const jobId = await runningJob();
    let superseded = 0;
    const recorder = new ProgressRecorder(jobs, jobId, {
      attempt: 0,
      intervalMs: 0,
      onCancelRequested: () => undefined,
      onSuperseded: () => superseded++,
    });
    recorder.record(batch(0.2));
    await recorder.settled();
    expect(superseded).toBe(0);
    await database.db.trainingJob.update({ where: { id: jobId }, data: { attempt: 1 } });
    recorder.record(batch(0.4));
    await recorder.settled();
    expect(superseded).toBe(1);
    const row = await database.db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
    expect(row.progress).toBe(0.2);
  });

  it('never shows a resumed run below the progress already shown, and keeps its epochs', async () => {
    const jobId = await runningJob();
    const kept = {
      phase: 'fineTuning' as const,
      epoch: 3,
      loss: 0.3,
      accuracy: 0.9,
      valLoss: 0.4,
      valAccuracy: 0.85,
    };
    const recorder = new ProgressRecorder(jobs, jobId, {
      attempt: 0,
      intervalMs: 0,
      onCancelRequested: () => undefined,
      onSuperseded: () => undefined,
      floor: { progress: 0.7, phase: 'fineTuning', epoch: 3, epochs: 5 },
    });
    recorder.keep([kept]);
    recorder.record(batch(0.3));
    await recorder.settled();
    let row = await database.db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
    expect(row.progress).toBe(0.7);
    // Catching up (the head refitted), it still shows where the job had got to.
    expect(row).toMatchObject({ phase: 'fineTuning', epoch: 3, epochs: 5 });
    // The head is fitted again after a resume: its record goes before the kept fine-tuning.
    recorder.record({ ...epochEnd, epoch: 1, epochs: 1, progress: 0.75 });
    await recorder.settled();
    row = await database.db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
    expect(row.progress).toBe(0.75);
    expect((row.history as { phase: string }[]).map((r) => r.phase)).toEqual([
      'featureExtraction',
      'fineTuning',
    ]);
  });

  it('tells one event at a time: the newest progress waits, every epoch in order', async () => {
    const jobId = await runningJob();
    const told: ProgressEvent[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const recorder = new ProgressRecorder(jobs, jobId, {
      attempt: 0,
      intervalMs: 60_000,
      onCancelRequested: () => undefined,
      onSuperseded: () => undefined,
      eventIntervalMs: 0,
      // The first publish hangs (a slow Redis) until released.
      publish: async (event) => {
        told.push(event);
        if (told.length === 1) await gate;
      },
    });
    recorder.record(batch(0.1));
    for (let i = 2; i <= 50; i++) recorder.record(batch(i / 100));
    recorder.record({ ...epochEnd, epoch: 1, epochs: 2, progress: 0.55 });
    for (let i = 56; i <= 80; i++) recorder.record(batch(i / 100));
    release();
    await recorder.settled();
    // The one out, the epoch's last progress (it superseded the 49 before), the epoch, and the
    // newest of those after it.
    expect(told.map((e) => e.type)).toEqual(['progress', 'progress', 'epoch', 'progress']);
    expect(told.map((e) => (e.type === 'progress' ? e.progress : e.record.epoch))).toEqual([
      0.1, 0.55, 1, 0.8,
    ]);
  });

  it('waits for its events at most as long as asked, then drops those still waiting', async () => {
    const jobId = await runningJob();
    let told = 0;
    const recorder = new ProgressRecorder(jobs, jobId, {
      attempt: 0,
      intervalMs: 0,
      onCancelRequested: () => undefined,
      onSuperseded: () => undefined,
      eventIntervalMs: 0,
      // Redis that never answers.
      publish: () => {
        told++;
        return new Promise<void>(() => undefined);
      },
    });
    recorder.record(batch(0.1));
    recorder.record({ ...epochEnd, epoch: 1, epochs: 2, progress: 0.5 });
    const started = Date.now();
    await recorder.settled(200);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(told).toBe(1);
    // The row was written all the same.
    const row = await database.db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
    expect(row.progress).toBe(0.5);
  });
});
