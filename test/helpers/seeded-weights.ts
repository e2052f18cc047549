import * as tf from '@tensorflow/tfjs';
import { seededRandom } from '../../src/training/phase-trainer.js';

/* Seeded weights for test models: repeatable, independent of tfjs' random state. */

/** The training core's seeded generator (mulberry32), so weights do not depend on tfjs' random state. */
const generator = seededRandom;

function hash(text: string, seed: number): number {
  let h = (2166136261 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
  return h;
}

function uniform(count: number, low: number, high: number, random: () => number): Float32Array {
  const values = new Float32Array(count);
  for (let i = 0; i < count; i++) values[i] = low + (high - low) * random();
  return values;
}

/** A weight's seeded values, by its role (the last part of its Keras name). */
function seededValues(weight: tf.LayerVariable, seed: number): tf.Tensor {
  const shape = weight.shape as number[];
  const count = shape.reduce((a, b) => a * b, 1);
  const random = generator(hash(weight.originalName, seed));
  const role = weight.originalName.split('/').pop()!;
  if (role === 'kernel' || role === 'depthwise_kernel') {
    const fanIn = role === 'kernel' ? count / shape[shape.length - 1]! : shape[0]! * shape[1]!;
    const limit = Math.sqrt(6 / fanIn);
    return tf.tensor(uniform(count, -limit, limit, random), shape);
  }
  if (role === 'gamma' || role === 'moving_variance') {
    return tf.tensor(uniform(count, 0.5, 1.5, random), shape);
  }
  if (role === 'beta' || role === 'moving_mean') {
    return tf.tensor(uniform(count, -0.1, 0.1, random), shape);
  }
  return tf.tensor(uniform(count, -0.05, 0.05, random), shape);
}

/**
 * Weights that keep activations in a trained network's range: He-uniform kernels (fan-in of
 * one output; a depthwise kernel's is its window), BN γ in [0.5, 1.5], β within ±0.1, biases
 * within ±0.05, each seeded by its name so that weights do not depend on build order. BN
 * moving statistics are then set to those of each BN's input on seeded images in
 * `valueRange`, as training leaves them: with made-up statistics (mean ±0.1, variance in
 * [0.5, 1.5]) activations grew until a fifth of them sat at ReLU6's cap by block 6.
 */
export function randomizeWeights(
  model: tf.LayersModel,
  seed: number,
  valueRange: [number, number] = [-1, 1],
): void {
  for (const layer of model.layers) {
    if (layer.weights.length === 0) continue;
    const values = layer.weights.map((weight) => seededValues(weight, seed));
    layer.setWeights(values);
    tf.dispose(values);
  }
  const [, height, width, channels] = model.inputs[0]!.shape as number[];
  const images = tf.randomUniform([2, height!, width!, channels!], ...valueRange, 'float32', seed);
  calibrateBatchNorm(model, images);
  images.dispose();
}

/** Runs `images` through the model layer by layer, setting each BN's moving statistics first. */
function calibrateBatchNorm(model: tf.LayersModel, images: tf.Tensor): void {
  const inboundOf = (layer: tf.layers.Layer) => layer.inboundNodes[0]?.inboundLayers ?? [];
  const pending = new Map<string, number>();
  for (const layer of model.layers) {
    for (const source of inboundOf(layer))
      pending.set(source.name, (pending.get(source.name) ?? 0) + 1);
  }
  const outputs = new Map<string, tf.Tensor>();
  for (const layer of model.layers) {
    const sources = inboundOf(layer).map((source) => outputs.get(source.name)!);
    if (layer.getClassName() === 'BatchNormalization') {
      const { mean, variance } = tf.moments(sources[0]!, [0, 1, 2]);
      const byName = (suffix: string) =>
        layer.weights.find((w) => w.originalName.endsWith(suffix))!;
      byName('/moving_mean').write(mean);
      byName('/moving_variance').write(variance);
      tf.dispose([mean, variance]);
    }
    const output =
      sources.length === 0
        ? images.clone()
        : (layer.apply(sources.length === 1 ? sources[0]! : sources) as tf.Tensor);
    outputs.set(layer.name, output);
    for (const source of inboundOf(layer)) {
      const left = pending.get(source.name)! - 1;
      pending.set(source.name, left);
      if (left === 0) outputs.get(source.name)!.dispose();
    }
  }
  tf.dispose([...outputs.values()].filter((t) => !t.isDisposed));
}
