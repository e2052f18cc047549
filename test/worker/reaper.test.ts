import { randomBytes, randomUUID } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  rmSync,
  mkdtempSync,
  readdirSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { TRAINING_JOB_PAYLOAD_VERSION } from '../../src/contracts/training-job.js';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import type { Prisma } from '../../src/db/generated/client.js';
import { ModelsRepository } from '../../src/db/models.repository.js';
import type { Db } from '../../src/db/prisma-client.js';
import { TenantsRepository } from '../../src/db/tenants.repository.js';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import { createRedis } from '../../src/queue/redis-connection.js';
import {
  createTrainingQueue,
  enqueueTraining,
  type TrainingQueue,
} from '../../src/queue/training-queue.js';
import { ensureRedis, type Started } from '../../src/runtime/infrastructure.js';
import { DomainError } from '../../src/services/domain-error.js';
import { JobsService } from '../../src/services/jobs.service.js';
import { LocalArtifactStore } from '../../src/storage/artifact-store.js';
import {
  gaveUpMessage,
  startReaper,
  type ReaperDeps,
  type ReaperSettings,
} from '../../src/worker/reaper.js';
import { seedJob, seedTenant } from './job-seeds.js';
import { startTestDatabase, type TestDatabase } from './worker-database.js';

/*
 * The reaper against real PostgreSQL and Redis. Ages are set by back-dating rows and files,
 * never by waiting; each test has its own queue and store, and ends every job it left active
 * so the next test's reaper does not see it.
 */

let database: TestDatabase;
let redisServer: Started;
let connection: Redis;
let jobs: TrainingJobsRepository;

let queue: TrainingQueue;
let root: string;
let store: LocalArtifactStore;
let uploadTmpDir: string;
let lines: string[];

const SETTINGS: ReaperSettings = {
  lockMs: 1000,
  stalledIntervalMs: 500,
  maxStalls: 2,
  // Tests run passes themselves; the timer's own passes are tested on their own.
  reaperIntervalMs: 3_600_000,
  orphanAgeMs: 60_000,
  queuedGraceMs: 5_000,
};

beforeAll(async () => {
  database = await startTestDatabase();
  redisServer = await ensureRedis(undefined, join(tmpdir(), 'graft-it-redis'));
  connection = createRedis(redisServer.url, 'queue');
  jobs = new TrainingJobsRepository(database.db);
});

afterAll(async () => {
  connection?.disconnect();
  await database?.close();
  await redisServer?.stop?.();
});

beforeEach(() => {
  queue = createTrainingQueue(`graft-reaper-${randomBytes(4).toString('hex')}`, connection);
  root = mkdtempSync(join(tmpdir(), 'graft-reaper-'));
  store = new LocalArtifactStore(join(root, 'artifacts'));
  uploadTmpDir = join(root, 'tmp');
  lines = [];
});

afterEach(async () => {
  await database.db.trainingJob.updateMany({
    where: { status: { in: ['queued', 'running'] } },
    data: { status: 'cancelled' },
  });
  await queue.obliterate({ force: true }).catch(() => undefined);
  await queue.close();
});

const deps = (): ReaperDeps => ({
  jobs,
  models: new ModelsRepository(database.db),
  queue,
  store,
  uploadTmpDir,
  log: (line) => lines.push(line),
});

const row = (id: string) => database.db.trainingJob.findUniqueOrThrow({ where: { id } });

/** A job last updated `ageMs` ago (Prisma would stamp now; this is what the reaper reads). */
async function seedAged(ageMs: number, columns: Prisma.TrainingJobUpdateInput = {}) {
  const { jobId } = await seedJob(database.db, store, columns);
  const at = new Date(Date.now() - ageMs);
  await database.db
    .$executeRaw`UPDATE "TrainingJob" SET "updatedAt" = ${at} WHERE "id" = ${jobId}::uuid`;
  return jobId;
}

/** Ends a queue entry as a worker would have (its processor returned). */
async function completeEntry(jobId: string): Promise<void> {
  await enqueueTraining(queue, jobId, 1);
  const worker = new Worker(queue.name, () => Promise.resolve('skipped'), {
    connection: createRedis(redisServer.url, 'worker'),
  });
  const deadline = Date.now() + 5_000;
  while ((await queue.getJobState(jobId)) !== 'completed' && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
  await worker.close();
  await worker.disconnect();
}

/** Holds each caller until `count` have arrived, then lets them all on with their value. */
function meetingOf(count: number) {
  let arrived = 0;
  let open: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (open = resolve));
  return async <T>(value: T): Promise<T> => {
    if (++arrived >= count) open();
    await all;
    return value;
  };
}

const isWaiting = async (jobId: string) =>
  ['waiting', 'prioritized'].includes(await queue.getJobState(jobId));

describe('the reaper, for queued jobs', () => {
  it('enqueues a queued job nothing will deliver, once, even with two reapers at once', async () => {
    const lost = await seedAged(60_000);
    const young = await seedAged(0);
    const delivered = await seedAged(60_000);
    await enqueueTraining(queue, delivered, 1);
    // Both reapers read the stuck job before either acts on it.
    const together = meetingOf(2);
    const racing = (): ReaperDeps => {
      const own = Object.create(jobs) as TrainingJobsRepository;
      own.stuckCandidates = async (...args) => together(await jobs.stuckCandidates(...args));
      return { ...deps(), jobs: own };
    };
    const [a, b] = [startReaper(racing(), SETTINGS), startReaper(racing(), SETTINGS)];
    try {
      const reports = await Promise.all([a.runOnce(), b.runOnce()]);
      expect(reports.map((r) => r.requeued).sort()).toEqual([0, 1]);
      expect(reports.map((r) => r.errors)).toEqual([0, 0]);
      expect(await isWaiting(lost)).toBe(true);
      // Its tenant's only job: first in its line.
      expect((await queue.getJob(lost))?.priority).toBe(1);
      // Just created: the API may be enqueueing it right now.
      expect(await queue.getJobState(young)).toBe('unknown');
      expect(await queue.getJobCounts('waiting', 'prioritized')).toMatchObject({
        waiting: 0,
        prioritized: 2,
      });
      expect(lines).toEqual(['graft reaper: 1 queued jobs enqueued again']);
      // The next pass has nothing to do, and says nothing.
      expect((await a.runOnce()).requeued).toBe(0);
      expect(lines).toHaveLength(1);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('takes a job for repair only as it was read: the second of two reapers does nothing', async () => {
    const id = await seedAged(60_000);
    const [seen] = await jobs.stuckCandidates(
      { queuedBefore: new Date(), runningBefore: new Date(0) },
      { take: 10 },
    );
    expect(seen?.id).toBe(id);
    expect(await jobs.takeForRequeue(seen!)).toBe(true);
    expect(await jobs.takeForRequeue(seen!)).toBe(false);
  });

  it('replaces a finished queue entry left under a queued job’s id', async () => {
    const id = await seedAged(0);
    await completeEntry(id);
    await database.db
      .$executeRaw`UPDATE "TrainingJob" SET "updatedAt" = (now() AT TIME ZONE 'UTC') - interval '1 minute' WHERE "id" = ${id}::uuid`;
    const reaper = startReaper(deps(), SETTINGS);
    try {
      expect((await reaper.runOnce()).requeued).toBe(1);
      expect(await isWaiting(id)).toBe(true);
    } finally {
      await reaper.stop();
    }
  });

  it('runs passes on its own every interval until stopped', async () => {
    const id = await seedAged(60_000);
    const reaper = startReaper(deps(), { ...SETTINGS, reaperIntervalMs: 20 });
    try {
      const deadline = Date.now() + 5_000;
      while (!(await isWaiting(id)) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      expect(await isWaiting(id)).toBe(true);
    } finally {
      await reaper.stop();
    }
    const after = lines.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(lines).toHaveLength(after);
  });
});

describe('the reaper, for running jobs', () => {
  const progressed = {
    status: 'running',
    startedAt: new Date(),
    phase: 'head',
    progress: 0.6,
    epoch: 3,
    epochs: 5,
    history: [{ epoch: 1, loss: 0.9 }],
  } satisfies Prisma.TrainingJobUpdateInput;

  it('queues a job whose worker and queue entry are gone again, keeping its progress', async () => {
    const gone = await seedAged(60_000, { ...progressed, attempt: 1 });
    const ended = await seedAged(0, { ...progressed, attempt: 2 });
    await completeEntry(ended);
    await database.db
      .$executeRaw`UPDATE "TrainingJob" SET "updatedAt" = (now() AT TIME ZONE 'UTC') - interval '1 minute' WHERE "id" = ${ended}::uuid`;
    // Updated within lockMs + stalledIntervalMs: its worker may be alive, or just finishing.
    const recent = await seedAged(0, { ...progressed, attempt: 1 });
    const reaper = startReaper(deps(), SETTINGS);
    try {
      const report = await reaper.runOnce();
      expect(report).toMatchObject({ restarted: 2, requeued: 0, failed: 0, errors: 0 });
      for (const id of [gone, ended]) {
        expect(await row(id)).toMatchObject({
          status: 'queued',
          lostRuns: 1,
          phase: 'head',
          progress: 0.6,
          epoch: 3,
          history: [{ epoch: 1, loss: 0.9 }],
        });
        expect(await isWaiting(id)).toBe(true);
      }
      expect((await row(recent)).status).toBe('running');
      expect(await queue.getJobState(recent)).toBe('unknown');
    } finally {
      await reaper.stop();
    }
  });

  it('leaves a running job whose queue entry is active to BullMQ', async () => {
    const id = await seedAged(60_000, { ...progressed, attempt: 1 });
    await enqueueTraining(queue, id, 1);
    const holder = new Worker(queue.name, null, {
      connection: createRedis(redisServer.url, 'worker'),
    });
    try {
      expect((await holder.getNextJob('a-live-worker'))?.id).toBe(id);
      const reaper = startReaper(deps(), SETTINGS);
      expect(await reaper.runOnce()).toMatchObject({ restarted: 0, failed: 0, cancelled: 0 });
      await reaper.stop();
      expect((await row(id)).status).toBe('running');
      expect(await queue.getJobState(id)).toBe('active');
    } finally {
      await holder.close(true);
      await holder.disconnect();
    }
  });

  it('fails a job whose runs were lost more often than maxStalls allows', async () => {
    const once = await seedAged(60_000, {
      ...progressed,
      attempt: SETTINGS.maxStalls,
      lostRuns: SETTINGS.maxStalls - 1,
    });
    const tooOften = await seedAged(60_000, {
      ...progressed,
      attempt: SETTINGS.maxStalls + 1,
      lostRuns: SETTINGS.maxStalls,
    });
    const reaper = startReaper(deps(), SETTINGS);
    try {
      expect(await reaper.runOnce()).toMatchObject({ restarted: 1, failed: 1 });
      expect(await row(once)).toMatchObject({ status: 'queued', lostRuns: SETTINGS.maxStalls });
      const failed = await row(tooOften);
      expect(failed).toMatchObject({ status: 'failed', progress: 0.6, lostRuns: 3 });
      expect(failed.error).toBe('the workers running this job were lost 3 times; giving up');
      expect(failed.error).toBe(gaveUpMessage(3));
      expect(failed.finishedAt).not.toBeNull();
      expect(await queue.getJobState(tooOften)).toBe('unknown');
    } finally {
      await reaper.stop();
    }
  });

  it('does not count hand-backs by draining workers as lost runs', async () => {
    // Survived many rolling deploys (each hand-back and claim took an attempt), then lost once.
    const deployed = await seedAged(60_000, {
      ...progressed,
      attempt: SETTINGS.maxStalls + 5,
      lostRuns: 0,
    });
    const reaper = startReaper(deps(), SETTINGS);
    try {
      expect(await reaper.runOnce()).toMatchObject({ restarted: 1, failed: 0, errors: 0 });
      expect(await row(deployed)).toMatchObject({
        status: 'queued',
        attempt: SETTINGS.maxStalls + 5,
        lostRuns: 1,
        progress: 0.6,
        error: null,
      });
      expect(await isWaiting(deployed)).toBe(true);
    } finally {
      await reaper.stop();
    }
  });

  it.each([
    ['fails', { lostRuns: SETTINGS.maxStalls }, 'failed'],
    ['cancels', { cancelRequested: true }, 'cancelled'],
  ] as const)(
    're-ranks the tenant’s line and offers deferred jobs again when it %s a lost job',
    async (_, columns, status) => {
      const tenantId = await seedTenant(database.db);
      const lost = (
        await seedJob(database.db, store, { ...progressed, attempt: 1, ...columns }, tenantId)
      ).jobId;
      await database.db
        .$executeRaw`UPDATE "TrainingJob" SET "updatedAt" = (now() AT TIME ZONE 'UTC') - interval '1 minute' WHERE "id" = ${lost}::uuid`;
      // Queued behind the lost job, which counted as running when it was ranked.
      const next = (await seedJob(database.db, store, {}, tenantId)).jobId;
      await enqueueTraining(queue, next, 2);
      // Another tenant's job, deferred (as the claim does: delayed) while the lost one held a share.
      const deferred = (await seedJob(database.db, store)).jobId;
      await queue.add(
        'train',
        { version: TRAINING_JOB_PAYLOAD_VERSION, jobId: deferred },
        { jobId: deferred, delay: 3_600_000 },
      );
      expect(await queue.getJobState(deferred)).toBe('delayed');
      const reaper = startReaper(deps(), SETTINGS);
      try {
        const report = await reaper.runOnce();
        expect(report).toMatchObject({ [status]: 1, restarted: 0, errors: 0 });
        expect((await row(lost)).status).toBe(status);
        expect((await queue.getJob(next))?.priority).toBe(1);
        expect(await queue.getJobState(deferred)).not.toBe('delayed');
      } finally {
        await reaper.stop();
      }
    },
  );

  it('cancels a lost job whose cancel was asked for instead of running it again', async () => {
    const id = await seedAged(60_000, { ...progressed, attempt: 1, cancelRequested: true });
    const reaper = startReaper(deps(), SETTINGS);
    try {
      expect(await reaper.runOnce()).toMatchObject({ cancelled: 1, restarted: 0 });
      expect(await row(id)).toMatchObject({ status: 'cancelled', progress: 0.6 });
      expect(await queue.getJobState(id)).toBe('unknown');
    } finally {
      await reaper.stop();
    }
  });
});

describe('a stalled job delivered again (resumeStalled)', () => {
  it('takes the next attempt, counts the lost run, and stamps updatedAt in UTC whatever the session’s zone', async () => {
    const { jobId } = await seedJob(database.db, store, {
      status: 'running',
      startedAt: new Date(),
      attempt: 4,
      lostRuns: 1,
    });
    const before = Date.now();
    // A session 14 hours ahead of UTC: plain now() would store a time 14 hours ahead.
    const attempt = await database.db.$transaction(async (tx) => {
      await tx.$executeRaw`SET LOCAL TIME ZONE 'Pacific/Kiritimati'`;
      return new TrainingJobsRepository(tx as unknown as Db).resumeStalled(jobId, 'cpu');
    });
    expect(attempt).toBe(5);
    const resumed = await row(jobId);
    expect(resumed).toMatchObject({ attempt: 5, lostRuns: 2, backend: 'cpu', status: 'running' });
    expect(resumed.updatedAt.getTime()).toBeGreaterThanOrEqual(before - 1_000);
    expect(resumed.updatedAt.getTime()).toBeLessThanOrEqual(Date.now() + 1_000);
    // A job no longer running is not taken, nor counted.
    await database.db.trainingJob.update({ where: { id: jobId }, data: { status: 'cancelled' } });
    expect(await jobs.resumeStalled(jobId, 'cpu')).toBeUndefined();
    expect(await row(jobId)).toMatchObject({ attempt: 5, lostRuns: 2 });
  });
});

describe('the reaper, for files', () => {
  const hourAgo = () => new Date(Date.now() - 3_600_000);

  it('sweeps files at most every sweepIntervalMs, repairing jobs on every pass', async () => {
    mkdirSync(uploadTmpDir, { recursive: true });
    const reaper = startReaper(deps(), { ...SETTINGS, sweepIntervalMs: 3_600_000 });
    try {
      writeFileSync(join(uploadTmpDir, 'first.zip'), 'killed');
      utimesSync(join(uploadTmpDir, 'first.zip'), hourAgo(), hourAgo());
      expect((await reaper.runOnce()).removed.uploads).toBe(1);
      writeFileSync(join(uploadTmpDir, 'second.zip'), 'killed too');
      utimesSync(join(uploadTmpDir, 'second.zip'), hourAgo(), hourAgo());
      expect((await reaper.runOnce()).removed.uploads).toBe(0);
      expect(existsSync(join(uploadTmpDir, 'second.zip'))).toBe(true);
    } finally {
      await reaper.stop();
      rmSync(join(uploadTmpDir, 'second.zip'), { force: true });
    }
  });

  /** Back-dates a store folder and everything in it. */
  function backdate(key: string): void {
    const at = hourAgo();
    const walk = (path: string) => {
      for (const entry of readdirSync(path, { withFileTypes: true })) {
        const child = join(path, entry.name);
        if (entry.isDirectory()) walk(child);
        utimesSync(child, at, at);
      }
      utimesSync(path, at, at);
    };
    walk(join(root, 'artifacts', ...key.split('/')));
  }

  async function seedModelRow(artifactKey: string): Promise<void> {
    const { tenantId } = await seedJob(database.db, store, { status: 'succeeded' });
    await database.db.model.create({
      data: {
        tenantId,
        baseModel: 'tiny',
        labels: ['a', 'b'],
        inputSize: 8,
        preprocessing: {},
        metrics: {},
        kept: 'head',
        keptReason: 'test',
        artifactKey,
      },
    });
  }

  it('removes what nobody owns and keeps what a job or model still owns', async () => {
    mkdirSync(uploadTmpDir, { recursive: true });
    writeFileSync(join(uploadTmpDir, 'killed.zip'), 'half an upload');
    utimesSync(join(uploadTmpDir, 'killed.zip'), hourAgo(), hourAgo());
    writeFileSync(join(uploadTmpDir, 'arriving.zip'), 'an upload in progress');
    const staging = join(root, 'artifacts', '.staging');
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, 'dead.partial'), 'half a file');
    utimesSync(join(staging, 'dead.partial'), hourAgo(), hourAgo());

    const [orphan, young, owned] = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of [orphan, young, owned]) await store.put(`models/${id}/model.json`, '{}');
    backdate(`models/${orphan}`);
    backdate(`models/${owned}`);
    await seedModelRow(`models/${owned}`);

    const running = await seedAged(0, { status: 'running', startedAt: new Date() });
    const queued = await seedAged(0);
    const finished = await seedAged(0, { status: 'succeeded' });
    const deleted = randomUUID();
    for (const id of [running, queued, finished, deleted])
      await store.put(`checkpoints/${id}/head/state.json`, '{}');
    backdate(`checkpoints/${running}`);

    // Dataset folders: seedJob's (with rows, fresh) and these.
    const [lostUpload, arriving] = [randomUUID(), randomUUID()];
    for (const key of [lostUpload, arriving, 'not-a-uuid'])
      await store.put(`datasets/${key}/images/0.jpg`, 'pixels');
    backdate(`datasets/${lostUpload}`);
    backdate('datasets/not-a-uuid');
    const { datasetId: oldDataset } = await seedJob(database.db, store, { status: 'succeeded' });
    backdate(`datasets/${oldDataset}`);
    const datasetsBefore = (await store.list('datasets')).map((entry) => entry.key);

    const reaper = startReaper(deps(), SETTINGS);
    try {
      const report = await reaper.runOnce();
      expect(report.removed).toEqual({
        uploads: 1,
        unfinishedWrites: 1,
        modelFolders: 1,
        checkpointFolders: 2,
        datasetFolders: 2,
        embeddingObjects: 0,
      });
      expect(report.errors).toBe(0);
      expect(readdirSync(uploadTmpDir)).toEqual(['arriving.zip']);
      expect(readdirSync(staging)).toEqual([]);
      const models = (await store.list('models')).map((entry) => entry.key).sort();
      expect(models).toEqual([`models/${owned}`, `models/${young}`].sort());
      const checkpoints = (await store.list('checkpoints')).map((entry) => entry.key).sort();
      expect(checkpoints).toEqual([`checkpoints/${running}`, `checkpoints/${queued}`].sort());
      const datasets = (await store.list('datasets')).map((entry) => entry.key).sort();
      const gone = [`datasets/${lostUpload}`, 'datasets/not-a-uuid'];
      expect(datasets).toEqual(datasetsBefore.filter((key) => !gone.includes(key)).sort());
      expect(datasets).toContain(`datasets/${arriving}`);
      expect(datasets).toContain(`datasets/${oldDataset}`);
      expect(lines).toEqual([
        'graft reaper: 1 upload temp files removed, 1 unfinished writes removed, 1 model folders without a model removed, 2 checkpoints of ended jobs removed, 2 dataset folders without a dataset removed',
      ]);
    } finally {
      await reaper.stop();
    }
  });

  it('sweeps nothing, and says nothing, when there is nothing to sweep', async () => {
    const reaper = startReaper(deps(), SETTINGS);
    try {
      const report = await reaper.runOnce();
      expect(report.errors).toBe(0);
      expect(existsSync(uploadTmpDir)).toBe(false);
      expect(lines).toEqual([]);
    } finally {
      await reaper.stop();
    }
  });
});

describe('creating a job when the queue is down', () => {
  it('withdraws the row, so the reaper never runs a job its client was told failed', async () => {
    const { tenantId, datasetId } = await seedJob(database.db, store, { status: 'succeeded' });
    const deadQueue = {
      add: () =>
        Promise.reject(new Error('Stream isn’t writeable and enableOfflineQueue is false')),
    } as unknown as TrainingQueue;
    const service = new JobsService(
      jobs,
      new DatasetsRepository(database.db),
      deadQueue,
      new TenantsRepository(database.db, loadConfig({}).quotas),
    );
    const refused = await service.create(tenantId, { datasetId }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ status: 503, code: 'queue_unavailable' });
    expect(await database.db.trainingJob.count({ where: { tenantId, status: 'queued' } })).toBe(0);
    const reaper = startReaper(deps(), { ...SETTINGS, queuedGraceMs: 0 });
    try {
      expect((await reaper.runOnce()).requeued).toBe(0);
    } finally {
      await reaper.stop();
    }
  });

  it('reports a database failure while ranking the job as such, and withdraws the row', async () => {
    const { tenantId, datasetId } = await seedJob(database.db, store, { status: 'succeeded' });
    const lost = new Error('Can’t reach database server at 127.0.0.1:5432');
    const failingJobs = Object.create(jobs) as TrainingJobsRepository;
    failingJobs.queueRank = () => Promise.reject(lost);
    let added = 0;
    const countingQueue = {
      add: () => {
        added++;
        return Promise.resolve();
      },
    } as unknown as TrainingQueue;
    const service = new JobsService(
      failingJobs,
      new DatasetsRepository(database.db),
      countingQueue,
      new TenantsRepository(database.db, loadConfig({}).quotas),
    );
    const refused = await service.create(tenantId, { datasetId }).catch((error: unknown) => error);
    // Not queue_unavailable: the error boundary tells a database failure as database_unavailable.
    expect(refused).toBe(lost);
    expect(added).toBe(0);
    expect(await database.db.trainingJob.count({ where: { tenantId } })).toBe(1);
    expect(await database.db.trainingJob.count({ where: { tenantId, status: 'queued' } })).toBe(0);
  });
});
