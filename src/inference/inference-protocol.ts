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
  | { type: 'stats'; requestId: number };

export type FromInference =
  | { type: 'result'; requestId: number; probabilities: Float32Array[] }
  | { type: 'error'; requestId: number; message: string }
  | { type: 'ready'; backend: string }
  | { type: 'stats'; requestId: number; models: { id: string; bytes: number }[] };
