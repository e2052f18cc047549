import type { Db } from '../db/prisma-client.js';
import { ModelsRepository } from '../db/models.repository.js';
import { notFound } from './domain-error.js';

type ModelRow = NonNullable<Awaited<ReturnType<ModelsRepository['find']>>>;

export function modelView(row: ModelRow) {
  const metrics = row.metrics as Record<string, unknown>;
  return {
    id: row.id,
    jobId: row.jobId,
    datasetId: row.datasetId,
    baseModel: row.baseModel,
    labels: row.labels as string[],
    inputSize: row.inputSize,
    preprocessing: row.preprocessing,
    kept: row.kept,
    keptReason: row.keptReason,
    metrics: {
      accuracy: (metrics.evaluation as { accuracy: number } | undefined)?.accuracy ?? null,
      ...metrics,
    },
    createdAt: row.createdAt.toISOString(),
  };
}

export class ModelsService {
  private readonly models: ModelsRepository;

  constructor(db: Db) {
    this.models = new ModelsRepository(db);
  }

  async get(tenantId: string, id: string) {
    const row = await this.models.find(tenantId, id);
    if (!row) throw notFound('model', id);
    return modelView(row);
  }

  async list(tenantId: string, page: { limit: number; offset: number }) {
    const [rows, total] = await this.models.list(tenantId, page);
    return { items: rows.map(modelView), total, ...page };
  }
}
