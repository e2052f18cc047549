import * as tf from '@tensorflow/tfjs';
import type { BaseModelEntry } from '../../src/training/base-model-catalog.js';
import type { LabelledExample } from '../../src/training/dataset-split.js';

export const TINY_SIZE = 24;

/**
 * A MobileNetV2-shaped functional model small enough for unit tests: stem conv + BN, an
 * inverted-residual block with a skip connection, a second block, and a 1×1 "Conv_1".
 * BN moving statistics are randomised so that inference and training mode differ.
 */
export function createTinyBase(seed = 7): tf.LayersModel {
  const init = (s: number) => tf.initializers.glorotUniform({ seed: seed + s });
  const bn = (name: string) => tf.layers.batchNormalization({ name, momentum: 0.9 });
  const input = tf.input({ shape: [TINY_SIZE, TINY_SIZE, 3], name: 'input_1' });
  const conv = (x: tf.SymbolicTensor, filters: number, name: string, strides = 1) =>
    tf.layers
      .conv2d({
        filters,
        kernelSize: strides === 1 ? 1 : 3,
        strides,
        padding: 'same',
        useBias: false,
        kernelInitializer: init(filters),
        name,
      })
      .apply(x) as tf.SymbolicTensor;
  const relu = (x: tf.SymbolicTensor, name: string) =>
    tf.layers.reLU({ maxValue: 6, name }).apply(x) as tf.SymbolicTensor;
  const depthwise = (x: tf.SymbolicTensor, name: string, strides = 1) =>
    tf.layers
      .depthwiseConv2d({
        kernelSize: 3,
        strides,
        padding: 'same',
        useBias: false,
        depthwiseInitializer: init(3),
        name,
      })
      .apply(x) as tf.SymbolicTensor;
  const apply = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) =>
    layer.apply(x) as tf.SymbolicTensor;

  let x = relu(apply(bn('bn_Conv1'), conv(input, 8, 'Conv1', 2)), 'Conv1_relu');
  // block_1: expand → depthwise → project, with a residual add
  const b1 = relu(
    apply(bn('block_1_expand_BN'), conv(x, 16, 'block_1_expand')),
    'block_1_expand_relu',
  );
  const b1d = relu(
    apply(bn('block_1_depthwise_BN'), depthwise(b1, 'block_1_depthwise')),
    'block_1_depthwise_relu',
  );
  const b1p = apply(bn('block_1_project_BN'), conv(b1d, 8, 'block_1_project'));
  x = apply(tf.layers.add({ name: 'block_1_add' }), [x, b1p]);
  // block_2: strided, no residual
  const b2 = relu(
    apply(bn('block_2_expand_BN'), conv(x, 16, 'block_2_expand')),
    'block_2_expand_relu',
  );
  const b2d = relu(
    apply(bn('block_2_depthwise_BN'), depthwise(b2, 'block_2_depthwise', 2)),
    'block_2_depthwise_relu',
  );
  x = apply(bn('block_2_project_BN'), conv(b2d, 12, 'block_2_project'));
  x = relu(apply(bn('Conv_1_bn'), conv(x, 32, 'Conv_1')), 'out_relu');
  const model = tf.model({ inputs: input, outputs: x, name: 'tiny_base' });
  for (const layer of model.layers) {
    if (layer.getClassName() !== 'BatchNormalization') continue;
    // getWeights() returns the live variables: read their shape, never dispose them.
    const channels = layer.getWeights()[0]!.shape[0];
    const values = [
      tf.randomUniform([channels], 0.8, 1.2, 'float32', seed),
      tf.randomUniform([channels], 0, 0.3, 'float32', seed + 1),
      tf.randomUniform([channels], -0.1, 0.1, 'float32', seed + 2),
      tf.randomUniform([channels], 0.6, 1.5, 'float32', seed + 3),
    ];
    layer.setWeights(values);
    tf.dispose(values);
  }
  return model;
}

export const TINY_ENTRY: BaseModelEntry = {
  id: 'tiny-test-base',
  description: 'tiny MobileNetV2-shaped test base',
  architecture: 'custom',
  preprocessing: { size: TINY_SIZE, resize: 'cover', valueRange: [-1, 1], channelOrder: 'RGB' },
  source: { kind: 'local', dir: '/nonexistent' },
  license: 'test',
  trainedOn: 'nothing',
  featureLayer: 'out_relu',
  cutLayers: ['out_relu'],
  unfreezePoints: ['block_2_expand', 'block_1_expand'],
  defaultUnfreezeFrom: 'block_2_expand',
};

/** Two easily separable classes of synthetic images: bright warm noise and dark cool noise. */
export function syntheticDataset(perClass: number): {
  examples: LabelledExample[];
  loadPixels: (key: string) => Promise<Uint8Array>;
} {
  const examples: LabelledExample[] = [];
  for (const label of ['cool', 'warm']) {
    for (let i = 0; i < perClass; i++) examples.push({ key: `${label}/${i}.png`, label });
  }
  const loadPixels = (key: string): Promise<Uint8Array> => {
    const warm = key.startsWith('warm');
    const index = Number(key.split('/')[1]!.split('.')[0]);
    let state = index * 9301 + (warm ? 49297 : 233280);
    const random = () => (state = (state * 9301 + 49297) % 233280) / 233280;
    const pixels = new Uint8Array(TINY_SIZE * TINY_SIZE * 3);
    for (let p = 0; p < TINY_SIZE * TINY_SIZE; p++) {
      const noise = random() * 60;
      pixels[p * 3] = warm ? 195 + noise : noise;
      pixels[p * 3 + 1] = warm ? 150 + noise : noise;
      pixels[p * 3 + 2] = warm ? 100 + noise : 40 + noise;
    }
    return Promise.resolve(pixels);
  };
  return { examples, loadPixels };
}
