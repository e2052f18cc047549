import {
  resolveTrainingSpec,
  TrainingSpecError,
  type TrainingSpec,
} from '../contracts/training-spec.js';
import type { EpochRecordView, StoredTrainingSummary } from '../contracts/training-summary.js';
import type { JobView } from '../contracts/resource-views.js';
import type { DatasetsRepository } from '../db/datasets.repository.js';
import type { Prisma } from '../db/generated/client.js';
import type { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import { dropQueued, enqueueTraining, type TrainingQueue } from '../queue/training-queue.js';
import { DEFAULT_BASE_ID, findBaseModel } from '../training/base-model-catalog.js';
import { DomainError, notFound } from './domain-error.js';

/** Ids are UUIDs; anything else cannot name a dataset (and Postgres would refuse to compare it). */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type JobRow = NonNullable<Awaited<ReturnType<TrainingJobsRepository['find']>>>;

export function jobView(row: JobRow): JobView {
  const spec = row.spec as unknown as TrainingSpec;
  return {
    id: row.id,
    status: row.status,
    datasetId: row.datasetId,
    baseModel: spec.baseModel ?? DEFAULT_BASE_ID,
    spec,
    phase: row.phase as JobView['phase'],
    progress: row.progress,
    epoch: row.epoch,
    epochs: row.epochs,
    etaSeconds: row.etaSeconds,
    history: row.history as unknown as EpochRecordView[],
    metrics: row.metrics as unknown as StoredTrainingSummary | null,
    modelId: row.model?.id ?? null,
    error: row.error,
    backend: row.backend,
    cancelRequested: row.cancelRequested,
    createdAt: row.createdAt.toISOString(),
    startedAt: row.startedAt?.toISOString() ?? null,
    finishedAt: row.finishedAt?.toISOString() ?? null,
  };
}

/** Only catalog ids and https URLs: a local path in a job spec would read the server's files. */
function checkBaseModel(spec: TrainingSpec): void {
  const reference = spec.baseModel ?? DEFAULT_BASE_ID;
  const entry = findBaseModel(reference);
  if (!entry) {
    if (/^https:\/\//.test(reference)) return;
    throw new DomainError(
      422,
      'unknown_base_model',
      `unknown baseModel '${reference}': use an id from GET /v1/base-models or an https:// URL of a model.json`,
    );
  }
  const from = spec.fineTuning.unfreezeFrom;
  if (spec.fineTuning.enabled && from !== undefined && !entry.unfreezePoints.includes(from)) {
    throw new DomainError(
      422,
      'invalid_unfreeze_point',
      `'${from}' is not a layer ${entry.id} can be unfrozen from; choose one of: ${entry.unfreezePoints.join(', ')}`,
    );
  }
}

export class JobsService {
  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly datasets: DatasetsRepository,
    private readonly queue: TrainingQueue,
  ) {}

  async create(tenantId: string, body: Record<string, unknown>) {
    const { datasetId, ...specInput } = body;
    let spec: TrainingSpec;
    try {
      spec = resolveTrainingSpec(specInput);
    } catch (error) {
      if (error instanceof TrainingSpecError) {
        throw new DomainError(422, 'invalid_spec', error.message, { issues: error.issues });
      }
      throw error;
    }
    checkBaseModel(spec);
    if (
      typeof datasetId !== 'string' ||
      !UUID.test(datasetId) ||
      !(await this.datasets.find(tenantId, datasetId))
    ) {
      throw new DomainError(
        422,
        'unknown_dataset',
        `datasetId ${String(datasetId)} is not one of your datasets`,
      );
    }
    const row = await this.jobs.create({
      tenantId,
      datasetId,
      spec: spec as unknown as Prisma.InputJsonValue,
    });
    try {
      await enqueueTraining(this.queue, row.id);
    } catch (error) {
      await this.jobs.fail(row.id, `could not be queued: ${(error as Error).message}`);
      throw new DomainError(
        503,
        'queue_unavailable',
        'the training queue (Redis) is unavailable; try again shortly',
      );
    }
    return this.get(tenantId, row.id);
  }

  async get(tenantId: string, id: string) {
    const row = await this.jobs.find(tenantId, id);
    if (!row) throw notFound('job', id);
    return jobView(row);
  }

  async list(tenantId: string, page: { limit: number; offset: number }) {
    const [rows, total] = await this.jobs.list(tenantId, page);
    return { items: rows.map(jobView), total, ...page };
  }

  async cancel(tenantId: string, id: string) {
    const status = await this.jobs.requestCancel(tenantId, id);
    if (status === undefined) throw notFound('job', id);
    if (status === 'succeeded' || status === 'failed') {
      throw new DomainError(409, 'job_finished', `job ${id} already ${status}`);
    }
    await dropQueued(this.queue, id).catch(() => undefined);
    return this.get(tenantId, id);
  }
}
