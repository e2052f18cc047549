import type { Preprocessing } from '../training/base-model-catalog.js';

/**
 * What services need from whatever runs trained models: src/inference's InferenceService,
 * passed in by the composition root, so services never import the layer above them.
 */
export interface ModelRunner {
  /**
   * Softmax scores per image, in order. Pixels are decoded RGB at the model's input size. When
   * `signal` aborts, the request leaves the queue and rejects with the signal's reason.
   */
  predict(
    model: { id: string; artifactKey: string; preprocessing: Preprocessing },
    images: Uint8Array[],
    signal?: AbortSignal,
  ): Promise<Float32Array[]>;
  /** Drops a model from memory (it was deleted). */
  evict(modelId: string): void;
}

/** What exporting as ONNX needs: a model converted where converting does not block the API. */
export interface OnnxConverter {
  /**
   * The model as a serialised ONNX graph. Rejects with OnnxConversionError (src/onnx) when the
   * converter refuses one of its layers, with a 503 DomainError when the runner is too busy to
   * take it, and with the signal's reason when `signal` aborts before it has started.
   */
  convertToOnnx(
    model: { id: string; artifactKey: string; preprocessing: Preprocessing },
    signal?: AbortSignal,
  ): Promise<Uint8Array>;
}
