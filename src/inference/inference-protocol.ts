import type * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from '../training/trained-model.js';

/** Messages between the API thread and the inference thread. */

export interface ModelRef {
  id: string;
  artifactKey: string;
  preprocessing: Preprocessing;
}

/** What runs a loaded model (README: "Engines"). */
export type Engine = 'onnxruntime' | 'tfjs';

/** A model's files as the thread gets them: tfjs model.json + weights, and model.onnx if stored. */
export interface ModelFiles {
  artifacts: tf.io.ModelArtifacts;
  onnx?: Uint8Array;
}

/** A model the thread holds: its bytes in memory, its engine, and why not ONNX Runtime if not. */
export interface HeldModel {
  id: string;
  /** What it counts as against the cache's budget (an ONNX Runtime session: an estimate). */
  bytes: number;
  engine: Engine;
  /** On ONNX Runtime: its graph was stored beside the model, or converted on load. */
  onnxGraph?: 'stored' | 'converted';
  fallback?: string;
}

export type ToInference =
  | { type: 'predict'; requestId: number; model: ModelRef; images: Uint8Array[] }
  /**
   * Convert the model to ONNX (for export), in turn with predictions; answered with `onnx` or
   * `error`. A `cancel` before its turn drops it.
   */
  | { type: 'convert'; requestId: number; model: ModelRef }
  | { type: 'cancel'; requestId: number }
  | { type: 'evict'; modelId: string }
  | { type: 'stats'; requestId: number }
  /** The answer to a `fetch`: the model's files (buffers transferred), or why not. */
  | { type: 'model'; fetchId: number; files: ModelFiles }
  | { type: 'model'; fetchId: number; error: string };

export type FromInference =
  | { type: 'result'; requestId: number; probabilities: Float32Array[] }
  | { type: 'onnx'; requestId: number; bytes: Uint8Array }
  /** `conversion`: the converter refused the model (the message says which layer). */
  | { type: 'error'; requestId: number; message: string; conversion?: true }
  /** Started: its tfjs backend, whether models go to ONNX Runtime, why not if it did not load. */
  | { type: 'ready'; backend: string; onnx: boolean; unavailable?: string }
  | { type: 'stats'; requestId: number; models: HeldModel[] }
  /** The thread needs a model it does not hold: the API thread reads it through the store. */
  | { type: 'fetch'; fetchId: number; model: ModelRef }
  /** A model loaded: on which engine, and why not ONNX Runtime where it was wanted. */
  | { type: 'loaded'; model: HeldModel }
  /** For the metrics: a batch run (did its model need loading?), a model let go and why. */
  | { type: 'batch'; images: number; seconds: number; cacheHit: boolean; engine: Engine }
  | { type: 'evicted'; reason: 'budget' | 'deleted' };
