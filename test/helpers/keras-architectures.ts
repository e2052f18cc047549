import * as tf from '@tensorflow/tfjs';
import type { BaseModelEntry } from '../../src/training/base-model-catalog.js';
import { randomizeWeights } from './seeded-weights.js';

/*
 * The catalog's architectures rebuilt layer for layer with the tfjs layers API, with seeded
 * pseudo-random weights, for bases whose real weights cannot be fetched offline. Layer
 * classes, names, paddings, strides and channel rounding follow the model.json files the
 * catalog's URLs serve:
 * - MobileNetV2 as keras_applications (Keras 2.2) built it for Teachable Machine and nsfwjs:
 *   ZeroPadding2D `correct_pad` + 'valid' depthwise conv on strided blocks, ReLU(6) layers;
 * - MobileNet V1 as tfjs-models converted it from Keras 2.1.4: no ZeroPadding2D (strided convs
 *   use TensorFlow's asymmetric 'same' padding), Activation('relu6') layers, and a top whose
 *   softmax runs on a [1, 1, classes] tensor before the last Reshape. `variant: 'keras-2.2'`
 *   gives the later Keras layout (ZeroPadding2D + 'valid', ReLU(6), softmax last) instead.
 */

export interface ArchitectureOptions {
  alpha: number;
  /** Input height and width in pixels (default 224). */
  size?: number;
  /** Seed of the pseudo-random weights (default 1). */
  seed?: number;
  /** The input range BN statistics are calibrated on (default [-1, 1], as the catalog's). */
  valueRange?: [number, number];
}

export interface MobileNetV1Options extends ArchitectureOptions {
  variant?: 'tfjs-models' | 'keras-2.2';
  classes?: number;
}

type Tensor = tf.SymbolicTensor;
const apply = (layer: tf.layers.Layer, x: Tensor | Tensor[]): Tensor => layer.apply(x) as Tensor;

/** Keras' channel rounding: a multiple of `divisor`, never more than 10% below `value`. */
export function makeDivisible(value: number, divisor = 8): number {
  const rounded = Math.max(divisor, Math.floor((value + divisor / 2) / divisor) * divisor);
  return rounded < 0.9 * value ? rounded + divisor : rounded;
}

/** keras_applications' `correct_pad` for a 3×3 stride-2 conv: pad bottom/right only on even sizes. */
function correctPad(x: Tensor): [[number, number], [number, number]] {
  const [, height, width] = x.shape as number[];
  return [
    [height! % 2 === 0 ? 0 : 1, 1],
    [width! % 2 === 0 ? 0 : 1, 1],
  ];
}

const ZEROS = 'zeros' as const;
const LOGIT_SCALE = 4;

function conv(
  x: Tensor,
  filters: number,
  kernel: number,
  strides: number,
  padding: 'same' | 'valid',
  name: string,
) {
  const layer = tf.layers.conv2d({
    filters,
    kernelSize: kernel,
    strides,
    padding,
    useBias: false,
    kernelInitializer: ZEROS,
    name,
  });
  return apply(layer, x);
}

function depthwise(x: Tensor, strides: number, padding: 'same' | 'valid', name: string) {
  const layer = tf.layers.depthwiseConv2d({
    kernelSize: 3,
    strides,
    padding,
    depthMultiplier: 1,
    useBias: false,
    depthwiseInitializer: ZEROS,
    name,
  });
  return apply(layer, x);
}

const batchNorm = (x: Tensor, name: string, momentum: number) =>
  apply(tf.layers.batchNormalization({ axis: -1, momentum, epsilon: 1e-3, name }), x);
const relu6 = (x: Tensor, name: string) => apply(tf.layers.reLU({ maxValue: 6, name }), x);

/** Keras MobileNetV2(alpha, include_top=False) with seeded weights. */
export function buildMobileNetV2({
  alpha,
  size = 224,
  seed = 1,
  valueRange = [-1, 1],
}: ArchitectureOptions): tf.LayersModel {
  const bn = (x: Tensor, name: string) => batchNorm(x, name, 0.999);
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' });
  let x = apply(tf.layers.zeroPadding2d({ padding: correctPad(input), name: 'Conv1_pad' }), input);
  x = conv(x, makeDivisible(32 * alpha), 3, 2, 'valid', 'Conv1');
  x = relu6(bn(x, 'bn_Conv1'), 'Conv1_relu');

  const block = (
    inputs: Tensor,
    filters: number,
    stride: number,
    expansion: number,
    id: number,
  ) => {
    const inChannels = inputs.shape[3]!;
    const outChannels = makeDivisible(Math.trunc(filters * alpha));
    const prefix = id === 0 ? 'expanded_conv_' : `block_${id}_`;
    let y = inputs;
    if (id > 0) {
      y = conv(y, expansion * inChannels, 1, 1, 'same', `${prefix}expand`);
      y = relu6(bn(y, `${prefix}expand_BN`), `${prefix}expand_relu`);
    }
    if (stride === 2) {
      y = apply(tf.layers.zeroPadding2d({ padding: correctPad(y), name: `${prefix}pad` }), y);
    }
    y = depthwise(y, stride, stride === 1 ? 'same' : 'valid', `${prefix}depthwise`);
    y = relu6(bn(y, `${prefix}depthwise_BN`), `${prefix}depthwise_relu`);
    y = bn(conv(y, outChannels, 1, 1, 'same', `${prefix}project`), `${prefix}project_BN`);
    if (inChannels !== outChannels || stride !== 1) return y;
    return apply(tf.layers.add({ name: `${prefix}add` }), [inputs, y]);
  };
  // [filters, stride, expansion] of blocks 0..16
  const blocks: [number, number, number][] = [
    [16, 1, 1],
    [24, 2, 6],
    [24, 1, 6],
    [32, 2, 6],
    [32, 1, 6],
    [32, 1, 6],
    [64, 2, 6],
    [64, 1, 6],
    [64, 1, 6],
    [64, 1, 6],
    [96, 1, 6],
    [96, 1, 6],
    [96, 1, 6],
    [160, 2, 6],
    [160, 1, 6],
    [160, 1, 6],
    [320, 1, 6],
  ];
  blocks.forEach(
    ([filters, stride, expansion], id) => (x = block(x, filters, stride, expansion, id)),
  );

  const lastFilters = alpha > 1 ? makeDivisible(1280 * alpha) : 1280;
  x = bn(conv(x, lastFilters, 1, 1, 'valid', 'Conv_1'), 'Conv_1_bn');
  x = relu6(x, 'out_relu');
  const model = tf.model({
    inputs: input,
    outputs: x,
    name: `mobilenetv2_${alpha.toFixed(2)}_${size}`,
  });
  randomizeWeights(model, seed, valueRange);
  return model;
}

/** Keras MobileNet (V1, include_top=True) as tfjs-models serves it, with seeded weights. */
export function buildMobileNetV1({
  alpha,
  size = 224,
  seed = 1,
  variant = 'tfjs-models',
  classes = 1000,
  valueRange = [-1, 1],
}: MobileNetV1Options): tf.LayersModel {
  const padded = variant === 'keras-2.2';
  const bn = (x: Tensor, name: string) => batchNorm(x, name, 0.99);
  const activation = (x: Tensor, name: string) =>
    padded ? relu6(x, name) : apply(tf.layers.activation({ activation: 'relu6', name }), x);
  const pad = (x: Tensor, name: string) =>
    apply(
      tf.layers.zeroPadding2d({
        padding: [
          [0, 1],
          [0, 1],
        ],
        name,
      }),
      x,
    );

  const input = tf.input({ shape: [size, size, 3], name: 'input_1' });
  let x = padded ? pad(input, 'conv1_pad') : input;
  x = conv(x, Math.trunc(32 * alpha), 3, 2, padded ? 'valid' : 'same', 'conv1');
  x = activation(bn(x, 'conv1_bn'), 'conv1_relu');
  // [pointwise filters, stride] of blocks 1..13
  const blocks: [number, number][] = [
    [64, 1],
    [128, 2],
    [128, 1],
    [256, 2],
    [256, 1],
    [512, 2],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [512, 1],
    [1024, 2],
    [1024, 1],
  ];
  blocks.forEach(([filters, stride], i) => {
    const id = i + 1;
    const strided = padded && stride === 2;
    if (strided) x = pad(x, `conv_pad_${id}`);
    x = depthwise(x, stride, strided ? 'valid' : 'same', `conv_dw_${id}`);
    x = activation(bn(x, `conv_dw_${id}_bn`), `conv_dw_${id}_relu`);
    x = conv(x, Math.trunc(filters * alpha), 1, 1, 'same', `conv_pw_${id}`);
    x = activation(bn(x, `conv_pw_${id}_bn`), `conv_pw_${id}_relu`);
  });

  x = apply(tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d_1' }), x);
  x = apply(
    tf.layers.reshape({ targetShape: [1, 1, Math.trunc(1024 * alpha)], name: 'reshape_1' }),
    x,
  );
  x = apply(tf.layers.dropout({ rate: 1e-3, name: 'dropout' }), x);
  x = apply(
    tf.layers.conv2d({
      filters: classes,
      kernelSize: 1,
      padding: 'same',
      kernelInitializer: ZEROS,
      name: 'conv_preds',
    }),
    x,
  );
  const softmax = (y: Tensor) =>
    apply(tf.layers.activation({ activation: 'softmax', name: 'act_softmax' }), y);
  const flatten = (y: Tensor) =>
    apply(tf.layers.reshape({ targetShape: [classes], name: 'reshape_2' }), y);
  x = padded ? softmax(flatten(x)) : flatten(softmax(x));
  const model = tf.model({
    inputs: input,
    outputs: x,
    name: `mobilenet_${alpha.toFixed(2)}_${size}`,
  });
  randomizeWeights(model, seed, valueRange);
  // A trained classifier is confident: logits spread over tens, not a flat softmax.
  const [kernel, bias] = model.getLayer('conv_preds').getWeights();
  const sharpened = [kernel!.mul(LOGIT_SCALE), bias!.mul(LOGIT_SCALE)];
  model.getLayer('conv_preds').setWeights(sharpened);
  tf.dispose(sharpened);
  return model;
}

/** The catalog entry's architecture at its alpha, with seeded weights. */
export function buildCatalogArchitecture(
  entry: BaseModelEntry,
  options: { size?: number; seed?: number } = {},
): tf.LayersModel {
  const alpha = entry.alpha ?? 1;
  const valueRange = entry.preprocessing.valueRange;
  switch (entry.architecture) {
    case 'MobileNetV2':
      return buildMobileNetV2({ alpha, valueRange, ...options });
    case 'MobileNetV1':
      return buildMobileNetV1({ alpha, valueRange, ...options });
    case 'custom':
      throw new Error(`${entry.id}: a custom base has no architecture to rebuild`);
  }
}
