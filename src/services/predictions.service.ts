import type { Db } from '../db/prisma-client.js';
import { ModelsRepository } from '../db/models.repository.js';
import type { InferenceService } from '../inference/inference.service.js';
import { exportModelZip } from '../inference/model-export.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { decodeImage, ImageDecodeError } from '../storage/image-decoder.js';
import type { Preprocessing } from '../training/base-model-catalog.js';
import { DomainError, notFound } from './domain-error.js';

export interface Prediction {
  label: string;
  score: number;
}

export interface PredictOptions {
  topK: number;
  threshold?: number;
}

/** Top-k labels by score (descending), optionally only those at or above a threshold. */
export function rank(
  scores: Float32Array,
  labels: readonly string[],
  options: PredictOptions,
): Prediction[] {
  return labels
    .map((label, i) => ({ label, score: scores[i]! }))
    .sort((a, b) => b.score - a.score)
    .slice(0, options.topK)
    .filter((p) => options.threshold === undefined || p.score >= options.threshold);
}

export class PredictionsService {
  private readonly models: ModelsRepository;

  constructor(
    db: Db,
    private readonly store: ArtifactStore,
    private readonly inference: InferenceService,
  ) {
    this.models = new ModelsRepository(db);
  }

  private async model(tenantId: string, id: string) {
    const row = await this.models.find(tenantId, id);
    if (!row) throw notFound('model', id);
    return {
      ...row,
      labels: row.labels as string[],
      preprocessing: row.preprocessing as unknown as Preprocessing,
    };
  }

  /** Decodes with the model's own preprocessing (the one training used), then predicts in a batch. */
  async predict(tenantId: string, modelId: string, images: Buffer[], options: PredictOptions) {
    const started = performance.now();
    const model = await this.model(tenantId, modelId);
    const pixels = await Promise.all(
      images.map((image, index) =>
        decodeImage(image, model.preprocessing).catch((error: unknown) => {
          if (error instanceof ImageDecodeError) {
            const tooBig = /pixel limit/i.test(error.message);
            throw new DomainError(
              tooBig ? 413 : 422,
              tooBig ? 'image_too_large' : 'invalid_image',
              `image ${index}: ${error.message}`,
            );
          }
          throw error;
        }),
      ),
    );
    const scores = await this.inference.predict(
      { id: model.id, artifactKey: model.artifactKey, preprocessing: model.preprocessing },
      pixels,
    );
    return {
      modelId: model.id,
      results: scores.map((s) => ({ predictions: rank(s, model.labels, options) })),
      latencyMs: performance.now() - started,
    };
  }

  async exportZip(tenantId: string, modelId: string) {
    const model = await this.model(tenantId, modelId);
    return exportModelZip(this.store, model);
  }

  async delete(tenantId: string, modelId: string): Promise<void> {
    const deleted = await this.models.delete(tenantId, modelId);
    if (!deleted) throw notFound('model', modelId);
    this.inference.evict(modelId);
    await this.store.remove(deleted.artifactKey);
  }
}
