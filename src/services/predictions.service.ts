import type { ModelsRepository } from '../db/models.repository.js';
import { decodeImage, ImageDecodeError } from '../storage/image-decoder.js';
import type { Preprocessing } from '../training/base-model-catalog.js';
import { DomainError, notFound } from './domain-error.js';
import type { ModelRunner } from './model-runner.js';

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
  constructor(
    private readonly models: ModelsRepository,
    private readonly inference: ModelRunner,
  ) {}

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
}
