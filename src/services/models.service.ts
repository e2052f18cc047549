import type { ModelView } from '../contracts/resource-views.js';
import type { StoredTrainingSummary } from '../contracts/training-summary.js';
import type { ModelsRepository } from '../db/models.repository.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { OnnxConversionError } from '../onnx/layers-to-onnx.js';
import { currentOnnxModel } from '../onnx/onnx-model-info.js';
import { exportModelZip, exportOnnxZip } from '../storage/model-export.js';
import { ONNX_FILE } from '../storage/model-file-cache.js';
import type { Preprocessing } from '../training/base-model-catalog.js';
import { DomainError, notFound } from './domain-error.js';
import type { ModelRunner, OnnxConverter } from './model-runner.js';

/** What an export zip holds: a TF.js LayersModel (the default) or an ONNX graph. */
export type ExportFormat = 'tfjs' | 'onnx';

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
    private readonly inference: ModelRunner & OnnxConverter,
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

  /** `signal`: the request's; a conversion its client no longer waits for is dropped. */
  async exportZip(
    tenantId: string,
    modelId: string,
    format: ExportFormat = 'tfjs',
    signal?: AbortSignal,
  ) {
    const row = await this.find(tenantId, modelId);
    const model = {
      ...row,
      labels: row.labels as string[],
      preprocessing: row.preprocessing as unknown as Preprocessing,
    };
    if (format === 'tfjs') return exportModelZip(this.store, model);
    return exportOnnxZip(this.store, model, await this.onnxOf(model, signal));
  }

  /**
   * The model's stored model.onnx if this build's converter wrote it; else (a model trained
   * before training wrote one, or by an older converter) it is converted by the inference thread
   * (off the event loop) and its graph stored, over any old one, for the next export.
   */
  private async onnxOf(
    model: { id: string; artifactKey: string; preprocessing: Preprocessing },
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const key = `${model.artifactKey}/${ONNX_FILE}`;
    if (await this.store.exists(key)) {
      const stored = await this.store.get(key);
      if (currentOnnxModel(stored)) return stored;
    }
    let bytes: Uint8Array;
    try {
      bytes = await this.inference.convertToOnnx(model, signal);
    } catch (error) {
      // No one to answer; 499 as proxies log it, and not a fault of ours to log in full.
      if (signal?.aborted)
        throw new DomainError(
          499,
          'client_gone',
          `the client went away before model ${model.id} was converted`,
        );
      if (!(error instanceof OnnxConversionError)) throw error;
      throw new DomainError(
        422,
        'not_convertible',
        `model ${model.id} cannot be exported as ONNX: ${error.message}`,
      );
    }
    // Kept for next time; a store that fails to keep it costs a conversion, not this export.
    await this.store.put(key, bytes).catch(() => undefined);
    return bytes;
  }

  async delete(tenantId: string, modelId: string): Promise<void> {
    const deleted = await this.models.delete(tenantId, modelId);
    if (!deleted) throw notFound('model', modelId);
    this.inference.evict(modelId);
    await this.store.remove(deleted.artifactKey);
  }
}
