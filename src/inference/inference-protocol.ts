import type * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from '../training/trained-model.js';

/** Messages between the API thread and the inference thread. */

export interface ModelRef {
  id: string;
  artifactKey: string;
  preprocessing: Preprocessing;
}

export type ToInference =
  | { type: 'predict'; requestId: number; model: ModelRef; images: Uint8Array[] }
  | { type: 'cancel'; requestId: number }
  | { type: 'evict'; modelId: string }
  | { type: 'stats'; requestId: number }
  /** The answer to a `fetch`: the model's files (weights transferred), or why not. */
  | { type: 'model'; fetchId: number; artifacts: tf.io.ModelArtifacts }
  | { type: 'model'; fetchId: number; error: string };

export type FromInference =
  | { type: 'result'; requestId: number; probabilities: Float32Array[] }
  | { type: 'error'; requestId: number; message: string }
  | { type: 'ready'; backend: string }
  | { type: 'stats'; requestId: number; models: { id: string; bytes: number }[] }
  /** The thread needs a model it does not hold: the API thread reads it through the store. */
  | { type: 'fetch'; fetchId: number; model: ModelRef }
  /** For the metrics: a batch run (did its model need loading?), a model let go and why. */
  | { type: 'batch'; images: number; seconds: number; cacheHit: boolean }
  | { type: 'evicted'; reason: 'budget' | 'deleted' };
