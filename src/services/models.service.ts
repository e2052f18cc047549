import type { ModelView } from '../contracts/resource-views.js';
import type { StoredTrainingSummary } from '../contracts/training-summary.js';
import type { ModelsRepository } from '../db/models.repository.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { exportModelZip } from '../storage/model-export.js';
import type { Preprocessing } from '../training/base-model-catalog.js';
import { notFound } from './domain-error.js';
import type { ModelRunner } from './model-runner.js';

type ModelRow = NonNullable<Awaited<ReturnType<ModelsRepository['find']>>>;

export function modelView(row: ModelRow): ModelView {
  const metrics = row.metrics as unknown as StoredTrainingSummary;
  return {
    id: row.id,
    jobId: row.jobId,
    datasetId: row.datasetId,
    baseModel: row.baseModel,
    labels: row.labels as string[],
    inputSize: row.inputSize,
    preprocessing: row.preprocessing as unknown as Preprocessing,
    kept: row.kept as ModelView['kept'],
    keptReason: row.keptReason,
    metrics: { accuracy: metrics.evaluation?.accuracy ?? null, ...metrics },
    createdAt: row.createdAt.toISOString(),
  };
}

/** Trained models: read, export, delete. */
export class ModelsService {
  constructor(
    private readonly models: ModelsRepository,
    private readonly store: ArtifactStore,
    private readonly inference: ModelRunner,
  ) {}

  private async find(tenantId: string, id: string) {
    const row = await this.models.find(tenantId, id);
    if (!row) throw notFound('model', id);
    return row;
  }

  async get(tenantId: string, id: string) {
    return modelView(await this.find(tenantId, id));
  }

  async list(tenantId: string, page: { limit: number; offset: number }) {
    const [rows, total] = await this.models.list(tenantId, page);
    return { items: rows.map(modelView), total, ...page };
  }

  async exportZip(tenantId: string, modelId: string) {
    const row = await this.find(tenantId, modelId);
    return exportModelZip(this.store, {
      ...row,
      labels: row.labels as string[],
      preprocessing: row.preprocessing as unknown as Preprocessing,
    });
  }

  async delete(tenantId: string, modelId: string): Promise<void> {
    const deleted = await this.models.delete(tenantId, modelId);
    if (!deleted) throw notFound('model', modelId);
    this.inference.evict(modelId);
    await this.store.remove(deleted.artifactKey);
  }
}
