import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  layersModelToOnnx,
  ONNX_CONVERTER_VERSION,
  OnnxConversionError,
} from '../../src/onnx/layers-to-onnx.js';
import { createOnnxSession } from '../../src/onnx/onnx-runtime.js';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';

/*
 * What the converter refuses, and what it stamps on its graphs; parity on real architectures
 * is in catalog-parity.test.ts.
 */

beforeAll(async () => {
  await selectBackend('wasm');
});

const input = () => tf.input({ shape: [6, 6, 3] });

function maxDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

describe('layersModelToOnnx', () => {
  it('stamps its version, so graphs from an older converter can be told apart', () => {
    const x = input();
    const y = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(x);
    const graph = layersModelToOnnx(tf.model({ inputs: x, outputs: y as tf.SymbolicTensor }));
    const proto = onnxProto.onnx.ModelProto.decode(graph.bytes);
    expect(proto.producerName).toBe('graft');
    expect(proto.producerVersion).toBe(ONNX_CONVERTER_VERSION);
    expect(graph.inputShape).toEqual([6, 6, 3]);
    expect(graph.outputShapes).toEqual([[6, 6, 2]]);
  });

  it('refuses, naming the layer, what it cannot convert faithfully', () => {
    const x = input();
    const rnn = tf.layers
      .simpleRNN({ units: 2 })
      .apply(tf.layers.reshape({ targetShape: [36, 3] }).apply(x)) as tf.SymbolicTensor;
    expect(() => layersModelToOnnx(tf.model({ inputs: x, outputs: rnn }))).toThrow(
      /layer 'simple_rnn.*' of class SimpleRNN has no ONNX conversion/,
    );
    // ONNX normalises axis 1: a BatchNormalization over the last axis of a 3-D tensor is not one.
    const x2 = input();
    const bn = tf.layers
      .batchNormalization({})
      .apply(tf.layers.reshape({ targetShape: [12, 9] }).apply(x2)) as tf.SymbolicTensor;
    expect(() => layersModelToOnnx(tf.model({ inputs: x2, outputs: bn }))).toThrow(
      OnnxConversionError,
    );
    const a = tf.input({ shape: [4] });
    const b = tf.input({ shape: [4] });
    const sum = tf.layers.add().apply([a, b]) as tf.SymbolicTensor;
    expect(() => layersModelToOnnx(tf.model({ inputs: [a, b], outputs: sum }))).toThrow(/2 inputs/);
  });

  it('exposes inner tensors as outputs, NHWC as tfjs gives them', async () => {
    const x = input();
    const conv = tf.layers
      .conv2d({ filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' })
      .apply(x) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization({}).apply(conv) as tf.SymbolicTensor;
    const pooled = tf.layers.globalAveragePooling2d({}).apply(bn) as tf.SymbolicTensor;
    const flat = tf.layers.flatten().apply(bn) as tf.SymbolicTensor;
    const dense = tf.layers
      .dense({ units: 3, activation: 'softmax' })
      .apply(tf.layers.concatenate().apply([pooled, flat])) as tf.SymbolicTensor;
    const model = tf.model({ inputs: x, outputs: dense });
    const outputs = [conv, dense, flat];
    const graph = layersModelToOnnx(model, { outputs });
    const session = await createOnnxSession(graph, { threads: 1 });
    const images = tf.randomUniform([2, 6, 6, 3], -1, 1, 'float32', 3);
    const got = await session.run(images.dataSync() as Float32Array, 2);
    const want = tf.model({ inputs: x, outputs }).predict(images) as tf.Tensor[];
    want.forEach((tensor, i) => {
      expect(got[i]!.length).toBe(tensor.size);
      expect(maxDiff(got[i]!, tensor.dataSync() as Float32Array)).toBeLessThan(1e-5);
    });
    await session.release();
    tf.dispose([images, ...want]);
  });
});
