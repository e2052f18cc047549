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
  ): Promise<'started' | 'deferred' | 'gone'> {
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
      if (!(await mayStart(load))) return 'deferred';
      const { count } = await tx.trainingJob.updateMany({
        where: { id, status: 'queued', cancelRequested: false },
        data: { status: 'running', startedAt: new Date(), backend, error: null },
      });
      return count === 1 ? 'started' : 'gone';
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

  /** A job a crashed worker left running is picked up again by BullMQ: let it restart. */
  async resumeStalled(id: string, backend: string): Promise<boolean> {
    const { count } = await this.db.trainingJob.updateMany({
      where: { id, status: 'running', cancelRequested: false },
      data: { backend, progress: 0, history: [] },
    });
    return count === 1;
  }

  async recordProgress(id: string, update: JobProgressUpdate): Promise<void> {
    await this.db.trainingJob.updateMany({ where: { id, status: 'running' }, data: update });
  }

  async succeed(
    id: string,
    tenantId: string,
    datasetId: string | null,
    model: NewModel,
    metrics: Prisma.InputJsonValue,
    history: Prisma.InputJsonValue,
  ): Promise<boolean> {
    return this.db.$transaction(async (tx) => {
      const { count } = await tx.trainingJob.updateMany({
        where: { id, status: 'running', cancelRequested: false },
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

  async fail(id: string, error: string): Promise<boolean> {
    const { count } = await this.db.trainingJob.updateMany({
      where: { id, status: { in: ACTIVE } },
      data: { status: 'failed', error, finishedAt: new Date() },
    });
    return count === 1;
  }

  async cancel(id: string): Promise<boolean> {
    const { count } = await this.db.trainingJob.updateMany({
      where: { id, status: { in: ACTIVE } },
      data: { status: 'cancelled', finishedAt: new Date(), cancelRequested: true },
    });
    return count === 1;
  }

  /**
   * Cancels a queued job at once; flags a running one for its worker, which stops within a
   * batch and records `cancelled`. Returns the job's status after the request.
   */
  async requestCancel(tenantId: string, id: string): Promise<JobStatus | undefined> {
    const queued = await this.db.trainingJob.updateMany({
      where: { id, tenantId, status: 'queued' },
      data: { status: 'cancelled', cancelRequested: true, finishedAt: new Date() },
    });
    if (queued.count === 1) return 'cancelled';
    await this.db.trainingJob.updateMany({
      where: { id, tenantId, status: 'running' },
      data: { cancelRequested: true },
    });
    const job = await this.db.trainingJob.findFirst({
      where: { id, tenantId },
      select: { status: true },
    });
    return job?.status;
  }

  async isCancelRequested(id: string): Promise<boolean> {
    const job = await this.db.trainingJob.findUnique({
      where: { id },
      select: { cancelRequested: true },
    });
    return job?.cancelRequested ?? true;
  }
}
