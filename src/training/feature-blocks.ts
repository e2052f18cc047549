import * as tf from '@tensorflow/tfjs';
import type { BankWeights } from './head-bank.js';
import type { BlockName, HeadSetting, Standardisation } from './head-search.js';

type SymbolicTensor = tf.SymbolicTensor;

/*
 * The feature blocks a head may read, as layers of the exported model: the base's pooled top,
 * the pooled output of an earlier depth, and raw-pixel thumbnails of the (preprocessed) input
 * — grey 28×28 and colour 14×14, made by average pooling, so the exported model computes them
 * exactly as training did. And the head itself, built from searched weights with the
 * standardisation and the calibration temperature folded into its dense layers: a plain
 * LayersModel that any tfjs loads.
 */

export const BLOCK_ORDER: readonly BlockName[] = ['top', 'mid', 'gray', 'colour'];

const GRAY = [0.299, 0.587, 0.114];

export function featureBlocks(
  base: tf.LayersModel,
  top: SymbolicTensor,
  mid: SymbolicTensor | undefined,
  pool: tf.layers.Layer,
): Partial<Record<BlockName, SymbolicTensor>> {
  const input = base.inputs[0]!;
  const size = input.shape[1]!;
  const thumb = (side: number, name: string) =>
    tf.layers
      .averagePooling2d({
        poolSize: Math.max(1, Math.floor(size / side)),
        strides: Math.max(1, Math.floor(size / side)),
        name,
      })
      .apply(input) as SymbolicTensor;
  const grayConv = tf.layers.conv2d({
    filters: 1,
    kernelSize: 1,
    useBias: false,
    trainable: false,
    name: 'graft_thumb_gray',
  });
  const flat = (name: string) => tf.layers.flatten({ name });
  const gray = flat('graft_thumb_gray_flat').apply(
    grayConv.apply(thumb(28, 'graft_thumb28')),
  ) as SymbolicTensor;
  setWeights(grayConv, [tf.tensor4d(GRAY, [1, 1, 3, 1])]);
  const colour = flat('graft_thumb_colour_flat').apply(
    thumb(14, 'graft_thumb14'),
  ) as SymbolicTensor;
  const midPooled = mid
    ? (tf.layers.globalAveragePooling2d({ name: 'graft_mid_pool' }).apply(mid) as SymbolicTensor)
    : undefined;
  return {
    top: pool.apply(top) as SymbolicTensor,
    ...(midPooled ? { mid: midPooled } : {}),
    gray,
    colour,
  };
}

export interface BuiltHead {
  /** Dense (and dropout) layers after the concatenation, in order; they own the head's weights. */
  layers: tf.layers.Layer[];
  apply: (features: SymbolicTensor) => SymbolicTensor;
}

/** Builds a layer under its own name scope (so its weights are saved as `<layer>/kernel`). */
function build(layer: tf.layers.Layer, inputSize: number): void {
  layer.apply(tf.input({ shape: [inputSize] }));
}

/** Sets a built layer's weights and frees the tensors they were copied from. */
function setWeights(layer: tf.layers.Layer, values: tf.Tensor[]): void {
  layer.setWeights(values);
  tf.dispose(values);
}

/** Concatenates blocks (or passes one through). */
export function joinBlocks(blocks: SymbolicTensor[], name = 'graft_features'): SymbolicTensor {
  return blocks.length === 1
    ? blocks[0]!
    : (tf.layers.concatenate({ name }).apply(blocks) as SymbolicTensor);
}

/**
 * Dense layers holding one bank model's weights, with the features' standardisation folded
 * into the first kernel and bias (x' = (x − mean) / std).
 */
export function buildHead(
  setting: HeadSetting,
  weights: BankWeights,
  index: number,
  stats: Map<BlockName, Standardisation>,
  classes: number,
  prefix = 'graft',
): BuiltHead {
  const mean = concatStats(setting.features, stats, 'mean');
  const std = concatStats(setting.features, stats, 'std');
  const width = setting.hiddenUnits > 0 ? setting.hiddenUnits : classes;
  const kernel = weights.kernel1[index]!.slice();
  const bias = weights.bias1[index]!.slice();
  for (let i = 0; i < mean.length; i++) {
    for (let j = 0; j < width; j++) {
      const folded = kernel[i * width + j]! / std[i]!;
      kernel[i * width + j] = folded;
      bias[j] = bias[j]! - mean[i]! * folded;
    }
  }
  const hidden = setting.hiddenUnits > 0;
  const first = tf.layers.dense({
    units: width,
    activation: hidden ? 'relu' : 'softmax',
    name: hidden ? `${prefix}_hidden` : `${prefix}_predictions`,
  });
  build(first, mean.length);
  setWeights(first, [tf.tensor2d(kernel, [mean.length, width]), tf.tensor1d(bias)]);
  const layers: tf.layers.Layer[] = [first];
  if (hidden) {
    if (setting.dropout > 0)
      layers.push(tf.layers.dropout({ rate: setting.dropout, name: `${prefix}_dropout` }));
    const output = tf.layers.dense({
      units: classes,
      activation: 'softmax',
      name: `${prefix}_predictions`,
    });
    build(output, width);
    setWeights(output, [
      tf.tensor2d(weights.kernel2![index]!, [width, classes]),
      tf.tensor1d(weights.bias2![index]!),
    ]);
    layers.push(output);
  }
  return {
    layers,
    apply: (features) => layers.reduce((x, layer) => layer.apply(x) as SymbolicTensor, features),
  };
}

function concatStats(
  features: readonly BlockName[],
  stats: Map<BlockName, Standardisation>,
  key: keyof Standardisation,
): Float32Array {
  const parts = features.map((name) => stats.get(name)![key]);
  const joined = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/** Divides the output layer's kernel and bias by `temperature` (softmax(z / T)). */
export function applyTemperature(head: BuiltHead, temperature: number): void {
  const output = head.layers.at(-1)!;
  const scaled = output.getWeights().map((w) => w.div(temperature));
  output.setWeights(scaled);
  tf.dispose(scaled);
}
