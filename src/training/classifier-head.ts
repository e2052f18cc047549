import * as tf from '@tensorflow/tfjs';

export interface ClassifierHead {
  pool: tf.layers.Layer;
  /** The head's layers after pooling, in order; they own the head's weights. */
  layers: tf.layers.Layer[];
  /** Applies the layers after pooling to pooled features. */
  apply: (pooled: tf.SymbolicTensor) => tf.SymbolicTensor;
}

/** The new classification head: GAP → [dense(relu)] → dropout → dense(softmax). */
export function createHead(
  classes: number,
  options: { dropout: number; hiddenUnits: number; seed: number },
): ClassifierHead {
  const pool = tf.layers.globalAveragePooling2d({ name: 'graft_pool' });
  const layers: tf.layers.Layer[] = [];
  if (options.hiddenUnits > 0) {
    layers.push(
      tf.layers.dense({
        units: options.hiddenUnits,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: options.seed }),
        name: 'graft_hidden',
      }),
    );
  }
  layers.push(
    tf.layers.dropout({ rate: options.dropout, seed: options.seed, name: 'graft_dropout' }),
  );
  layers.push(
    tf.layers.dense({
      units: classes,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: options.seed + 1 }),
      name: 'graft_predictions',
    }),
  );
  const apply = (pooled: tf.SymbolicTensor): tf.SymbolicTensor =>
    layers.reduce((x, layer) => layer.apply(x) as tf.SymbolicTensor, pooled);
  return { pool, layers, apply };
}

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
