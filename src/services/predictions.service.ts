import { setMaxListeners } from 'node:events';
import type { ModelsRepository } from '../db/models.repository.js';
import { decodeImage, ImageDecodeError } from '../storage/image-decoder.js';
import type { Preprocessing } from '../training/base-model-catalog.js';
import { Slots } from './slots.js';
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

/** How much prediction work one process takes on before it answers 503 instead of queueing. */
export interface PredictionLimits {
  /** Requests held at once, from arrival (before auth, before the body) to the answer. */
  maxInFlight: number;
  /** Images decoded at once. */
  decodeConcurrency: number;
  /** An admitted request not answered within this fails with 503. */
  timeoutMs: number;
}

const DEFAULT_LIMITS: PredictionLimits = {
  maxInFlight: 32,
  decodeConcurrency: 4,
  timeoutMs: 30_000,
};

/** Seconds a client is told to wait when this process is full (the queue drains in seconds). */
export const BUSY_RETRY_AFTER_S = 2;

export const busy = (detail: string) =>
  new DomainError(503, 'busy', `${detail}; retry in a few seconds`, {
    retryAfterSeconds: BUSY_RETRY_AFTER_S,
  });

/** A request let in: its model, and its deadline. */
export interface AdmittedPrediction {
  model: { id: string; artifactKey: string; labels: string[]; preprocessing: Preprocessing };
  /** Aborts at the deadline, or when `end` is called (answered, or the client went away). */
  signal: AbortSignal;
  end(): void;
}

/** A bounded number of places; taking one never waits. */
export interface Places {
  tryTake(): boolean;
  give(): void;
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
  /**
   * Places for prediction requests, taken as each arrives (before auth and any lookup) and
   * given back once it is answered: a full process answers 503 for the price of a counter.
   */
  readonly places: Places;
  private readonly decodes: Slots;

  constructor(
    private readonly models: ModelsRepository,
    private readonly inference: ModelRunner,
    private readonly limits: PredictionLimits = DEFAULT_LIMITS,
  ) {
    this.places = new Slots(limits.maxInFlight);
    this.decodes = new Slots(limits.decodeConcurrency);
  }

  /**
   * Lets a request in before its body is read (404 unless the tenant has the model) and starts
   * its deadline. Call `end` once it is answered.
   */
  async admit(tenantId: string, modelId: string): Promise<AdmittedPrediction> {
    const row = await this.models.forServing(tenantId, modelId);
    if (!row) throw notFound('model', modelId);
    const stop = new AbortController();
    const deadline = setTimeout(() => stop.abort(new Error('deadline')), this.limits.timeoutMs);
    deadline.unref();
    return {
      model: {
        id: row.id,
        artifactKey: row.artifactKey,
        labels: row.labels as string[],
        preprocessing: row.preprocessing as Preprocessing,
      },
      signal: stop.signal,
      end: () => {
        clearTimeout(deadline);
        stop.abort(new Error('ended'));
      },
    };
  }

  /** Decodes with the model's own preprocessing (the one training used), then predicts in a batch. */
  async predict(admitted: AdmittedPrediction, images: Buffer[], options: PredictOptions) {
    const started = performance.now();
    const { model, signal } = admitted;
    // Each image of a batch waits for a decode slot on the request's signal: as many listeners
    // as images, none leaked (a slot taken removes its own).
    setMaxListeners(images.length + 10, signal);
    try {
      const pixels = await Promise.all(
        images.map((image, index) => this.decode(image, index, model.preprocessing, signal)),
      );
      signal.throwIfAborted();
      const scores = await this.inference.predict(
        { id: model.id, artifactKey: model.artifactKey, preprocessing: model.preprocessing },
        pixels,
        signal,
      );
      return {
        modelId: model.id,
        results: scores.map((s) => ({ predictions: rank(s, model.labels, options) })),
        latencyMs: performance.now() - started,
      };
    } catch (error) {
      if (signal.aborted && !(error instanceof DomainError)) {
        throw new DomainError(
          503,
          'prediction_timeout',
          `no answer within ${this.limits.timeoutMs / 1000} s; the server is busy, retry later`,
          { retryAfterSeconds: BUSY_RETRY_AFTER_S },
        );
      }
      throw error;
    }
  }

  /** One image, while holding one of the process's decode slots. */
  private async decode(image: Buffer, index: number, pre: Preprocessing, signal: AbortSignal) {
    await this.decodes.take(signal);
    try {
      return await decodeImage(image, pre);
    } catch (error) {
      if (error instanceof ImageDecodeError) {
        const tooBig = /pixel limit/i.test(error.message);
        throw new DomainError(
          tooBig ? 413 : 422,
          tooBig ? 'image_too_large' : 'invalid_image',
          `image ${index}: ${error.message}`,
        );
      }
      throw error;
    } finally {
      this.decodes.give();
    }
  }
}
