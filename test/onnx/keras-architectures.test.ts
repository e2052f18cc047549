import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadBaseModel } from '../../src/storage/base-model-store.js';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';
import { disposeModelWeights } from '../../src/training/model-surgery.js';
import {
  buildMobileNetV1,
  buildMobileNetV2,
  makeDivisible,
} from '../helpers/keras-architectures.js';

/*
 * The architecture builders stand in for catalog bases we cannot download offline, so they
 * must be those bases layer for layer: checked against the real model.json files we have.
 */

/** One layer as a model.json describes it: what an architecture comparison looks at. */
interface LayerSummary {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inbound: string[];
  outputShape: unknown;
}

const COMPARED_CONFIG = [
  'filters',
  'kernel_size',
  'strides',
  'padding',
  'dilation_rate',
  'use_bias',
  'activation',
  'max_value',
  'depth_multiplier',
  'axis',
  'momentum',
  'epsilon',
  'target_shape',
  'rate',
  'pool_size',
];

interface KerasLayerJson {
  class_name: string;
  config: Record<string, unknown> & { name: string };
  inbound_nodes: [string, ...unknown[]][][];
}

/** Layers in order with their class, structural config, inbound layers and output shape. */
function summarizeLayers(model: tf.LayersModel): LayerSummary[] {
  const json = model.toJSON(null, false) as unknown as { config: { layers: KerasLayerJson[] } };
  return json.config.layers.map((layer, i) => ({
    name: layer.config.name,
    className: layer.class_name,
    config: Object.fromEntries(
      COMPARED_CONFIG.filter((key) => key in layer.config).map((key) => [key, layer.config[key]]),
    ),
    inbound: layer.inbound_nodes.flatMap((node) => node.map(([name]) => name)),
    outputShape: model.layers[i]!.outputShape,
  }));
}

beforeAll(async () => {
  await selectBackend('wasm');
});

async function catalogModel(id: string): Promise<tf.LayersModel> {
  const { artifacts } = await loadBaseModel(id, { cacheDir: '/nonexistent' });
  return tf.loadLayersModel(tf.io.fromMemory(artifacts));
}

const V1_FIXTURE = JSON.parse(
  readFileSync(new URL('../fixtures/mobilenet_v1_1.0_224.layers.json', import.meta.url), 'utf8'),
) as { layers: LayerSummary[] };

describe('Keras architecture builders', () => {
  it('makeDivisible rounds channels as Keras does', () => {
    expect([8, 11.2, 22, 33, 56, 5, 16 * 0.75].map((v) => makeDivisible(v))).toEqual([
      8, 16, 24, 32, 56, 8, 16,
    ]);
  });

  it('MobileNetV2 0.35 is the bundled ImageNet model: layers, configs, wiring, shapes, weights', async () => {
    const real = await catalogModel('mobilenet_v2_0.35');
    const built = buildMobileNetV2({ alpha: 0.35 });
    expect(summarizeLayers(built)).toEqual(summarizeLayers(real));
    const weights = (m: tf.LayersModel) => m.weights.map((w) => [w.originalName, w.shape]);
    expect(weights(built)).toEqual(weights(real));
    disposeModelWeights(real);
    disposeModelWeights(built);
  });

  it('MobileNetV2 1.0 is the nsfwjs base up to out_relu', async () => {
    const real = await catalogModel('nsfwjs_mobilenet_v2');
    const built = buildMobileNetV2({ alpha: 1 });
    const base = summarizeLayers(real);
    expect(summarizeLayers(built)).toEqual(
      base.slice(0, base.findIndex((l) => l.name === 'out_relu') + 1),
    );
    disposeModelWeights(real);
    disposeModelWeights(built);
  });

  it('MobileNet V1 1.0 is the tfjs-models model.json', () => {
    const built = buildMobileNetV1({ alpha: 1 });
    // JSON has no undefined: a round trip makes both sides compare alike.
    expect(JSON.parse(JSON.stringify(summarizeLayers(built)))).toEqual(V1_FIXTURE.layers);
    disposeModelWeights(built);
  });

  it.each([
    [0.25, 256],
    [0.5, 512],
  ])('MobileNet V1 %s scales every layer’s channels (%s at the top)', (alpha, top) => {
    const built = buildMobileNetV1({ alpha, size: 96 });
    expect(built.getLayer('conv1').outputShape).toEqual([null, 48, 48, 32 * alpha]);
    expect(built.getLayer('conv_pw_13_relu').outputShape).toEqual([null, 3, 3, top]);
    expect(built.getLayer('reshape_1').outputShape).toEqual([null, 1, 1, top]);
    expect(built.outputs[0]!.shape).toEqual([null, 1000]);
    disposeModelWeights(built);
  });

  it('the Keras 2.2 MobileNet V1 pads strided convs with ZeroPadding2D and applies softmax last', () => {
    const built = buildMobileNetV1({ alpha: 0.25, size: 96, variant: 'keras-2.2' });
    const names = built.layers.map((l) => l.name);
    expect(names.filter((n) => n.endsWith('pad'))).toEqual(['conv1_pad']);
    expect(names.filter((n) => n.startsWith('conv_pad_'))).toEqual(
      [2, 4, 6, 12].map((n) => `conv_pad_${n}`),
    );
    expect(names.slice(-2)).toEqual(['reshape_2', 'act_softmax']);
    expect(built.getLayer('conv_pw_13_relu').getClassName()).toBe('ReLU');
    disposeModelWeights(built);
  });

  it('pads odd feature maps on both sides, as keras_applications correct_pad does', () => {
    // 200 px: 100 → 50 → 25 at block_6, an odd size
    const built = buildMobileNetV2({ alpha: 0.35, size: 200 });
    const padding = (name: string) =>
      (built.getLayer(name).getConfig() as { padding: unknown }).padding;
    expect(padding('block_3_pad')).toEqual([
      [0, 1],
      [0, 1],
    ]);
    expect(padding('block_6_pad')).toEqual([
      [1, 1],
      [1, 1],
    ]);
    expect(built.getLayer('block_6_depthwise').outputShape).toEqual([null, 13, 13, 96]);
    disposeModelWeights(built);
  });

  it('seeded weights are repeatable and keep activations in a trained range', () => {
    const a = buildMobileNetV2({ alpha: 0.5, size: 96, seed: 3 });
    const b = buildMobileNetV2({ alpha: 0.5, size: 96, seed: 3 });
    const c = buildMobileNetV2({ alpha: 0.5, size: 96, seed: 4 });
    const x = tf.randomUniform([2, 96, 96, 3], -1, 1, 'float32', 5);
    const [ya, yb, yc] = [a, b, c].map((m) => m.predict(x) as tf.Tensor);
    expect(ya!.sub(yb!).abs().max().dataSync()[0]).toBe(0);
    expect(ya!.sub(yc!).abs().max().dataSync()[0]).toBeGreaterThan(0.1);
    const values = ya!.dataSync();
    const active = values.filter((v) => v > 0).length / values.length;
    const saturated = values.filter((v) => v >= 6).length / values.length;
    expect(active).toBeGreaterThan(0.2);
    expect(saturated).toBeLessThan(0.5);
    tf.dispose([x, ya!, yb!, yc!]);
    disposeModelWeights(a, b, c);
  });
});
