import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import { TrainingJobsRepository, type TenantLoad } from '../../src/db/training-jobs.repository.js';
import { LocalArtifactStore } from '../../src/storage/artifact-store.js';
import { deferralDelay, mayStart } from '../../src/worker/fair-share.js';
import { runTrainingJob, type TrainingJobDeps } from '../../src/worker/run-training-job.js';
import type { LimitsFor } from '../../src/worker/tenant-limits.js';
import { seedJob, seedTenant } from './job-seeds.js';
import { stubTrainer } from './stub-trainer.js';
import { startTestDatabase, type TestDatabase } from './worker-database.js';

let database: TestDatabase;
let jobs: TrainingJobsRepository;
const store = new LocalArtifactStore(mkdtempSync(join(tmpdir(), 'graft-fair-share-store-')));

beforeAll(async () => {
  database = await startTestDatabase();
  jobs = new TrainingJobsRepository(database.db);
});

afterAll(async () => {
  await database?.close();
});

/** Running caps per tenant; a tenant not named has none. */
const capped =
  (caps: Record<string, number> = {}): LimitsFor =>
  (tenantId) =>
    Promise.resolve({
      ...(caps[tenantId] !== undefined ? { maxRunning: caps[tenantId] } : {}),
      maxSeconds: 3600,
      maxSecondsSource: 'a test',
    });

const load = (running: Record<string, number>, waiting: string[]): TenantLoad => ({
  running: new Map(Object.entries(running)),
  waiting: new Set(waiting),
});

describe('mayStart', () => {
  it('lets a tenant alone use every worker, up to its own cap', async () => {
    expect(await mayStart('a', load({ a: 7 }, ['a']), capped())).toBe(true);
    expect(await mayStart('a', load({ a: 2 }, ['a']), capped({ a: 2 }))).toBe(false);
  });

  it('makes a tenant give way to a waiting tenant that runs fewer jobs', async () => {
    expect(await mayStart('a', load({ a: 1 }, ['a', 'b']), capped())).toBe(false);
    expect(await mayStart('a', load({ a: 1, b: 1 }, ['a', 'b']), capped())).toBe(true);
    expect(await mayStart('b', load({ a: 1 }, ['a', 'b']), capped())).toBe(true);
    // Nobody gives way to a tenant held back by its own cap.
    expect(await mayStart('a', load({ a: 2, b: 1 }, ['a', 'b']), capped({ b: 1 }))).toBe(true);
  });
});

describe('deferralDelay', () => {
  it('doubles with each deferral up to the most', () => {
    const policy = { firstMs: 1000, maxMs: 60_000 };
    expect([1, 2, 3, 7, 8, 500].map((n) => deferralDelay(n, policy))).toEqual([
      1000, 2000, 4000, 60_000, 60_000, 60_000,
    ]);
  });
});

describe('a fair claim', () => {
  const depsWith = (limitsFor: LimitsFor): TrainingJobDeps => ({
    jobs,
    datasets: new DatasetsRepository(database.db),
    store,
    train: stubTrainer({ progress: false }).train,
    backendName: () => Promise.resolve('stub-backend'),
    progressIntervalMs: 60_000,
    limitsFor,
  });
  const row = (id: string) => database.db.trainingJob.findUniqueOrThrow({ where: { id } });

  it('defers a job whose tenant runs more than a waiting tenant, leaving its row queued', async () => {
    const a = await seedTenant(database.db);
    await seedJob(database.db, store, { status: 'running', startedAt: new Date() }, a);
    const second = await seedJob(database.db, store, {}, a);
    const other = await seedJob(database.db, store);
    const deps = depsWith(capped());
    expect(await runTrainingJob(deps, second.jobId)).toBe('deferred');
    expect(await row(second.jobId)).toMatchObject({
      status: 'queued',
      startedAt: null,
      backend: null,
    });
    expect(await runTrainingJob(deps, other.jobId)).toBe('succeeded');
    // Nobody else waits now.
    expect(await runTrainingJob(deps, second.jobId)).toBe('succeeded');
  });

  it('defers a job whose tenant is at its running cap, even with nobody else waiting', async () => {
    const a = await seedTenant(database.db);
    await seedJob(database.db, store, { status: 'running', startedAt: new Date() }, a);
    const second = await seedJob(database.db, store, {}, a);
    expect(await runTrainingJob(depsWith(capped({ [a]: 1 })), second.jobId)).toBe('deferred');
    expect(await runTrainingJob(depsWith(capped({ [a]: 2 })), second.jobId)).toBe('succeeded');
  });

  it('serialises claims: of two jobs claimed at once only one starts while another tenant waits', async () => {
    const a = await seedTenant(database.db);
    const first = await seedJob(database.db, store, {}, a);
    const second = await seedJob(database.db, store, {}, a);
    await seedJob(database.db, store);
    const decide = (now: TenantLoad) => mayStart(a, now, capped());
    const outcomes = await Promise.all(
      [first, second].map((job) => jobs.startIf(job.jobId, 'stub-backend', decide)),
    );
    expect(outcomes.map((o) => o.claim).sort()).toEqual(['deferred', 'started']);
    expect(outcomes.find((o) => o.claim === 'started')).toEqual({ claim: 'started', attempt: 1 });
  });

  it('ranks a tenant’s queued jobs after its running ones', async () => {
    const a = await seedTenant(database.db);
    await seedJob(database.db, store, { status: 'running', startedAt: new Date() }, a);
    const queued = [];
    for (let i = 0; i < 3; i++) queued.push((await seedJob(database.db, store, {}, a)).jobId);
    expect(await jobs.queueRank(await row(queued[1]!))).toBe(3);
    expect(await jobs.queueRanks(a, 2)).toEqual([
      { jobId: queued[0], rank: 2 },
      { jobId: queued[1], rank: 3 },
    ]);
  });
});
