import type { JobStatus, Prisma } from './generated/client.js';
import type { Db } from './prisma-client.js';

export interface JobProgressUpdate {
  phase: string;
  progress: number;
  epoch: number | null;
  epochs: number | null;
  etaSeconds: number | null;
  history: Prisma.InputJsonValue;
}

export interface NewModel {
  id: string;
  baseModel: string;
  labels: string[];
  inputSize: number;
  preprocessing: Prisma.InputJsonValue;
  metrics: Prisma.InputJsonValue;
  kept: string;
  keptReason: string;
  artifactKey: string;
}

const ACTIVE: JobStatus[] = ['queued', 'running'];

/** Jobs running, and tenants with jobs waiting, across all tenants: what a fair claim weighs. */
export interface TenantLoad {
  running: ReadonlyMap<string, number>;
  waiting: ReadonlySet<string>;
}

/** Claims take this transaction-level lock, so two workers never both see the same free share. */
const CLAIM_LOCK = 0x6772_6166;

/**
 * Job state lives here; the queue only delivers. Every transition is a guarded update
 * (`where: { id, status }`), so a late or repeated delivery can never move a job backwards.
 */
export class TrainingJobsRepository {
  constructor(private readonly db: Db) {}

  create(data: { tenantId: string; datasetId: string; spec: Prisma.InputJsonValue }) {
    return this.db.trainingJob.create({ data });
  }

  find(tenantId: string, id: string) {
    return this.db.trainingJob.findFirst({
      where: { id, tenantId },
      include: { model: { select: { id: true } } },
    });
  }

  findById(id: string) {
    return this.db.trainingJob.findUnique({ where: { id } });
  }

  list(tenantId: string, page: { limit: number; offset: number }) {
    return this.db.$transaction([
      this.db.trainingJob.findMany({
        where: { tenantId },
        orderBy: { createdAt: 'desc' },
        take: page.limit,
        skip: page.offset,
        include: { model: { select: { id: true } } },
      }),
      this.db.trainingJob.count({ where: { tenantId } }),
    ]);
  }

  /**
   * Starts a queued job if `mayStart` agrees given every tenant's load. Claims are serialised
   * by one advisory lock (one per job start, so it is never contended for long): the load a
   * claim weighs cannot change under it through another claim.
   */
  startIf(
    id: string,
    backend: string,
    mayStart: (load: TenantLoad) => Promise<boolean>,
  ): Promise<{ claim: 'started'; attempt: number } | { claim: 'deferred' | 'gone' }> {
    return this.db.$transaction(async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(${CLAIM_LOCK}::bigint)`;
      const [running, waiting] = await Promise.all([
        tx.trainingJob.groupBy({
          by: ['tenantId'],
          where: { status: 'running' },
          _count: { _all: true },
        }),
        tx.trainingJob.groupBy({ by: ['tenantId'], where: { status: 'queued' } }),
      ]);
      const load: TenantLoad = {
        running: new Map(running.map((r) => [r.tenantId, r._count._all])),
        waiting: new Set(waiting.map((w) => w.tenantId)),
      };
      if (!(await mayStart(load))) return { claim: 'deferred' };
      // A job handed back by a draining worker keeps its progress; its first start stays.
      const { count } = await tx.trainingJob.updateMany({
        where: { id, status: 'queued', cancelRequested: false },
        data: { status: 'running', backend, error: null, attempt: { increment: 1 } },
      });
      if (count !== 1) return { claim: 'gone' };
      const row = await tx.trainingJob.findUniqueOrThrow({
        where: { id },
        select: { attempt: true, startedAt: true },
      });
      if (!row.startedAt)
        await tx.trainingJob.update({ where: { id }, data: { startedAt: new Date() } });
      return { claim: 'started', attempt: row.attempt };
    });
  }

  /**
   * A new job's place in its tenant's line: the tenant's running jobs, then its queued ones
   * up to this one. It becomes the job's BullMQ priority (lower first): tenants take turns.
   */
  queueRank(job: { tenantId: string; createdAt: Date }): Promise<number> {
    return this.db.trainingJob.count({
      where: {
        tenantId: job.tenantId,
        OR: [{ status: 'running' }, { status: 'queued', createdAt: { lte: job.createdAt } }],
      },
    });
  }

  /** The current ranks of a tenant's first `most` queued jobs, oldest first. */
  async queueRanks(tenantId: string, most: number): Promise<{ jobId: string; rank: number }[]> {
    const [running, queued] = await this.db.$transaction([
      this.db.trainingJob.count({ where: { tenantId, status: 'running' } }),
      this.db.trainingJob.findMany({
        where: { tenantId, status: 'queued' },
        orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
        select: { id: true },
        take: most,
      }),
    ]);
    return queued.map((job, i) => ({ jobId: job.id, rank: running + i + 1 }));
  }

  /**
   * A job whose worker died, delivered again by BullMQ: this run takes the next attempt
   * number, which fences off the one before (its writes no longer match), and the lost run is
   * counted (`lostRuns`). Its progress stays: the run continues from the last checkpoint.
   * Returns the attempt, or undefined if the job is no longer running. One statement, so two
   * deliveries racing cannot both take the same attempt.
   */
  async resumeStalled(id: string, backend: string): Promise<number | undefined> {
    // `updatedAt` is a timestamp without time zone holding UTC, as Prisma writes it: plain
    // now() would store the session's local time, off by its offset where that is not UTC.
    const rows = await this.db.$queryRaw<{ attempt: number }[]>`
      UPDATE "TrainingJob"
      SET "attempt" = "attempt" + 1, "lostRuns" = "lostRuns" + 1, "backend" = ${backend},
        "updatedAt" = now() AT TIME ZONE 'UTC'
      WHERE "id" = ${id}::uuid AND "status" = 'running' AND NOT "cancelRequested"
      RETURNING "attempt"`;
    return rows[0]?.attempt;
  }

  /**
   * Writes a run's progress, only while that run (its attempt) owns the job. False: the job
   * ended or another run took it over, and this one must stop.
   */
  async recordProgress(id: string, attempt: number, update: JobProgressUpdate): Promise<boolean> {
    const { count } = await this.db.trainingJob.updateMany({
      where: { id, status: 'running', attempt },
      data: update,
    });
    return count === 1;
  }

  /**
   * Notes where a run continued from (shown with the job): one entry per run, the furthest
   * point it reached (features, then a phase's epoch, replace each other).
   */
  async recordResume(
    id: string,
    attempt: number,
    point: { attempt: number } & Record<string, unknown>,
  ): Promise<void> {
    await this.db.$executeRaw`
      UPDATE "TrainingJob" SET "resumes" = COALESCE(
        (SELECT jsonb_agg(e) FROM jsonb_array_elements("resumes") AS e
          WHERE (e->>'attempt')::int <> ${attempt}), '[]'::jsonb)
        || jsonb_build_array(${JSON.stringify(point)}::jsonb)
      WHERE "id" = ${id}::uuid AND "attempt" = ${attempt}`;
  }

  /**
   * A draining worker gives its running job back to the queue, keeping its progress; the next
   * worker continues from the job's checkpoints. False if the run no longer owns the job.
   */
  async handBack(id: string, attempt: number): Promise<boolean> {
    const { count } = await this.db.trainingJob.updateMany({
      where: { id, status: 'running', attempt, cancelRequested: false },
      data: { status: 'queued', etaSeconds: null },
    });
    return count === 1;
  }

  async succeed(
    job: { id: string; tenantId: string; datasetId: string | null; attempt: number },
    model: NewModel,
    metrics: Prisma.InputJsonValue,
    history: Prisma.InputJsonValue,
  ): Promise<boolean> {
    const { id, tenantId, datasetId, attempt } = job;
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.trainingJob.updateMany({
        where: { id, status: 'running', cancelRequested: false, attempt },
        data: {
          status: 'succeeded',
          progress: 1,
          metrics,
          history,
          finishedAt: new Date(),
          etaSeconds: 0,
        },
      });
      if (count !== 1) return false;
      await tx.model.create({ data: { ...model, tenantId, datasetId, jobId: id } });
      return true;
    });
  }

  /** Fails an active job; with `attempt`, only while that run owns it. */
  async fail(id: string, error: string, attempt?: number): Promise<boolean> {
    const { count } = await this.db.trainingJob.updateMany({
      where: { id, status: { in: ACTIVE }, ...(attempt === undefined ? {} : { attempt }) },
      data: { status: 'failed', error, finishedAt: new Date() },
    });
    return count === 1;
  }

  /** Cancels an active job; with `attempt`, only while that run owns it. */
  async cancel(id: string, attempt?: number): Promise<boolean> {
    const { count } = await this.db.trainingJob.updateMany({
      where: { id, status: { in: ACTIVE }, ...(attempt === undefined ? {} : { attempt }) },
      data: { status: 'cancelled', finishedAt: new Date(), cancelRequested: true },
    });
    return count === 1;
  }

  /**
   * Cancels a queued job at once; flags a running one for its worker, which stops within a
   * batch and records `cancelled`. Returns the job's status after the request.
   */
  async requestCancel(tenantId: string, id: string): Promise<JobStatus | undefined> {
    return (await this.cancelRequest(tenantId, id))?.status;
  }

  /**
   * `requestCancel`, saying what this request changed: `cancelled` (a queued job, at once),
   * `requested` (a running job's flag, set now), or nothing (asked before, or finished).
   */
  async cancelRequest(
    tenantId: string,
    id: string,
  ): Promise<{ status: JobStatus; changed?: 'cancelled' | 'requested' } | undefined> {
    const queued = await this.db.trainingJob.updateMany({
      where: { id, tenantId, status: 'queued' },
      data: { status: 'cancelled', cancelRequested: true, finishedAt: new Date() },
    });
    if (queued.count === 1) return { status: 'cancelled', changed: 'cancelled' };
    const running = await this.db.trainingJob.updateMany({
      where: { id, tenantId, status: 'running', cancelRequested: false },
      data: { cancelRequested: true },
    });
    const job = await this.db.trainingJob.findFirst({
      where: { id, tenantId },
      select: { status: true },
    });
    if (!job) return undefined;
    return running.count === 1 ? { status: job.status, changed: 'requested' } : job;
  }

  async isCancelRequested(id: string): Promise<boolean> {
    const job = await this.db.trainingJob.findUnique({
      where: { id },
      select: { cancelRequested: true },
    });
    return job?.cancelRequested ?? true;
  }

  // The reaper's queries (worker/reaper.ts). Each repair is a guarded update of the row as the
  // reaper read it (status, updatedAt, attempt): of two reapers, or a reaper and a worker,
  // racing over one job, only one acts.

  /**
   * Jobs whose queue entry may be lost: queued and not updated since `queuedBefore`, running
   * and not updated since `runningBefore`. A page of `take`, by id, after `after`.
   */
  stuckCandidates(
    cutoffs: { queuedBefore: Date; runningBefore: Date },
    page: { after?: string; take: number },
  ): Promise<StuckJob[]> {
    return this.db.trainingJob.findMany({
      where: {
        OR: [
          { status: 'queued', updatedAt: { lt: cutoffs.queuedBefore } },
          { status: 'running', updatedAt: { lt: cutoffs.runningBefore } },
        ],
        ...(page.after === undefined ? {} : { id: { gt: page.after } }),
      },
      orderBy: { id: 'asc' },
      take: page.take,
      select: {
        id: true,
        tenantId: true,
        status: true,
        createdAt: true,
        updatedAt: true,
        attempt: true,
        lostRuns: true,
        cancelRequested: true,
      },
    });
  }

  /** A queued job the reaper will enqueue again: it is touched, so no other reaper does. */
  takeForRequeue(seen: StuckJob): Promise<boolean> {
    return this.updateIfUnchanged(seen, {});
  }

  /**
   * A running job whose worker is gone goes back to the queue, its progress kept; the lost run
   * is counted.
   */
  requeueLost(seen: StuckJob): Promise<boolean> {
    return this.updateIfUnchanged(seen, { status: 'queued', lostRuns: { increment: 1 } });
  }

  /** A running job lost once too often fails; this last lost run is counted too. */
  failLost(seen: StuckJob, error: string): Promise<boolean> {
    return this.updateIfUnchanged(seen, {
      status: 'failed',
      error,
      finishedAt: new Date(),
      lostRuns: { increment: 1 },
    });
  }

  cancelLost(seen: StuckJob): Promise<boolean> {
    return this.updateIfUnchanged(seen, {
      status: 'cancelled',
      cancelRequested: true,
      finishedAt: new Date(),
    });
  }

  /**
   * Jobs per status, and when the job queued longest was last queued (its row's `updatedAt`:
   * created, handed back or requeued), in one GROUP BY: what a metrics scrape reads.
   */
  async statusCounts(): Promise<{
    byStatus: Partial<Record<JobStatus, number>>;
    oldestQueuedAt: Date | null;
  }> {
    const groups = await this.db.trainingJob.groupBy({
      by: ['status'],
      _count: { _all: true },
      _min: { updatedAt: true },
    });
    const byStatus: Partial<Record<JobStatus, number>> = {};
    for (const group of groups) byStatus[group.status] = group._count._all;
    const queued = groups.find((group) => group.status === 'queued');
    return { byStatus, oldestQueuedAt: queued?._min.updatedAt ?? null };
  }

  /** Of `ids`, those of jobs still queued or running (whose files are still in use). */
  async activeIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.trainingJob.findMany({
      where: { id: { in: [...ids] }, status: { in: ACTIVE } },
      select: { id: true },
    });
    return new Set(rows.map((row) => row.id));
  }

  /**
   * Of `ids` (UUIDs), those naming a Dataset row: the sweep (worker/orphan-sweep.ts) removes
   * `datasets/<id>` folders of the others.
   */
  async existingDatasetIds(ids: readonly string[]): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const rows = await this.db.dataset.findMany({
      where: { id: { in: [...ids] } },
      select: { id: true },
    });
    return new Set(rows.map((row) => row.id));
  }

  /**
   * Undoes `create` when the job could not be queued and its client was told so: a queued row
   * goes; one some worker took meanwhile is flagged for cancelling. Says whether it went.
   */
  async withdraw(id: string): Promise<boolean> {
    const { count } = await this.db.trainingJob.deleteMany({ where: { id, status: 'queued' } });
    if (count === 1) return true;
    await this.db.trainingJob.updateMany({
      where: { id, status: 'running' },
      data: { cancelRequested: true },
    });
    return false;
  }

  private async updateIfUnchanged(
    seen: StuckJob,
    data: Prisma.TrainingJobUpdateManyMutationInput,
  ): Promise<boolean> {
    const { count } = await this.db.trainingJob.updateMany({
      where: { id: seen.id, status: seen.status, updatedAt: seen.updatedAt, attempt: seen.attempt },
      data: { ...data, updatedAt: new Date() },
    });
    return count === 1;
  }
}

/** A queued or running job as the reaper (worker/reaper.ts) read it. */
export interface StuckJob {
  id: string;
  tenantId: string;
  status: JobStatus;
  createdAt: Date;
  updatedAt: Date;
  /** Runs started so far (each claim takes the next number, after a hand-back too). */
  attempt: number;
  /** Runs lost to a dead worker so far (hand-backs by draining workers not counted). */
  lostRuns: number;
  cancelRequested: boolean;
}
