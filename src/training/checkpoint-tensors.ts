import * as tf from '@tensorflow/tfjs';
import type { SavedTensor } from './checkpoint-types.js';

/** A tensor's values, copied out (synchronously: checkpoints are taken between batches). */
export function savedTensor(tensor: tf.Tensor): SavedTensor {
  const dtype = tensor.dtype === 'int32' ? 'int32' : 'float32';
  const data = tensor.dataSync();
  return {
    shape: [...tensor.shape],
    dtype,
    data: dtype === 'int32' ? Int32Array.from(data) : Float32Array.from(data),
  };
}

export function tensorOf(saved: SavedTensor): tf.Tensor {
  return tf.tensor(saved.data, saved.shape, saved.dtype);
}

/** Whether saved tensors line up one to one with these shapes (a checkpoint of this model). */
export function sameShapes(
  saved: readonly SavedTensor[] | undefined,
  shapes: readonly (readonly (number | null)[])[],
): boolean {
  return (
    saved !== undefined &&
    saved.length === shapes.length &&
    saved.every(
      (s, i) =>
        s.shape.length === shapes[i]!.length && s.shape.every((d, j) => d === shapes[i]![j]),
    )
  );
}
