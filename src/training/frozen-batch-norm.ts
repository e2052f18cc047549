import * as tf from '@tensorflow/tfjs';

/*
 * tfjs 4.22's BatchNormalization ignores `trainable = false` and `training: false` inside
 * fit()/trainOnBatch(): it normalises with batch statistics and updates its moving mean and
 * variance, so a "frozen" base drifts. Keras keeps a frozen BN in inference mode, and that is
 * what fine-tuning needs. freezeBatchNorm makes each BN layer of a model always compute
 * the inference-mode affine map `x · γ/√(var+ε) + (β − mean · γ/√(var+ε))` and freezes
 * its weights. The layers keep their class, so saved models load in any tfjs.
 */

interface BatchNormInternals {
  axis: number;
  epsilon: number;
  gamma: tf.LayerVariable | null;
  beta: tf.LayerVariable | null;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

const FROZEN = Symbol('graft.frozenBatchNorm');

function isBatchNorm(layer: tf.layers.Layer): boolean {
  return layer.getClassName() === 'BatchNormalization';
}

function inferenceAffine(layer: tf.layers.Layer, x: tf.Tensor): tf.Tensor {
  const bn = layer as unknown as BatchNormInternals;
  const axis = bn.axis < 0 ? x.rank + bn.axis : bn.axis;
  if (axis !== x.rank - 1) throw new Error(`${layer.name}: only channels-last BN is supported`);
  const mean = bn.movingMean.read();
  let scale = tf.rsqrt(bn.movingVariance.read().add(bn.epsilon));
  if (bn.gamma) scale = scale.mul(bn.gamma.read());
  let shift = mean.mul(scale).neg();
  if (bn.beta) shift = shift.add(bn.beta.read());
  return x.mul(scale).add(shift);
}

/** Puts every BatchNormalization layer of `model` in permanent inference mode. Idempotent. */
export function freezeBatchNorm(model: tf.LayersModel): number {
  let count = 0;
  for (const layer of model.layers) {
    if (!isBatchNorm(layer)) continue;
    count++;
    layer.trainable = false;
    const patched = layer as tf.layers.Layer & { [FROZEN]?: true };
    if (patched[FROZEN]) continue;
    patched[FROZEN] = true;
    patched.call = (inputs: tf.Tensor | tf.Tensor[]) =>
      tf.tidy(() => inferenceAffine(layer, Array.isArray(inputs) ? inputs[0]! : inputs));
  }
  return count;
}
