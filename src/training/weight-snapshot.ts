import * as tf from '@tensorflow/tfjs';

/** Copies of the layers' current weights, to restore if a later phase does worse. */
export function snapshotWeights(
  layers: readonly tf.layers.Layer[],
): Map<tf.layers.Layer, tf.Tensor[]> {
  return new Map(layers.map((layer) => [layer, layer.getWeights().map((w) => w.clone())]));
}

export function restoreWeights(saved: Map<tf.layers.Layer, tf.Tensor[]>): void {
  for (const [layer, weights] of saved) layer.setWeights(weights);
}

export function disposeSnapshot(saved: Map<tf.layers.Layer, tf.Tensor[]>): void {
  for (const weights of saved.values()) tf.dispose(weights);
}
