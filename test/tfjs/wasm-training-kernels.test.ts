import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';

interface ConvCase {
  name: string;
  x: [number, number, number, number];
  w: [number, number, number, number];
  strides: number;
  pad: 'same' | 'valid';
  depthwise?: boolean;
}

const cases: ConvCase[] = [
  { name: '1x1 conv', x: [2, 7, 7, 8], w: [1, 1, 8, 16], strides: 1, pad: 'same' },
  { name: '3x3 conv stride 2 same', x: [2, 9, 9, 3], w: [3, 3, 3, 4], strides: 2, pad: 'same' },
  { name: '3x3 conv stride 2 valid', x: [2, 8, 8, 3], w: [3, 3, 3, 4], strides: 2, pad: 'valid' },
  {
    name: 'depthwise 3x3',
    x: [2, 7, 7, 5],
    w: [3, 3, 5, 1],
    strides: 1,
    pad: 'same',
    depthwise: true,
  },
  {
    name: 'depthwise stride 2',
    x: [2, 14, 14, 5],
    w: [3, 3, 5, 1],
    strides: 2,
    pad: 'same',
    depthwise: true,
  },
  {
    name: 'depthwise multiplier 2 valid',
    x: [2, 15, 15, 5],
    w: [3, 3, 5, 2],
    strides: 2,
    pad: 'valid',
    depthwise: true,
  },
];

async function gradients(backend: string, c: ConvCase): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.randomNormal<tf.Rank.R4>(c.x, 0, 1, 'float32', 1);
    const w = tf.randomNormal<tf.Rank.R4>(c.w, 0, 1, 'float32', 2);
    const f = (input: tf.Tensor, filter: tf.Tensor) => {
      const y = c.depthwise
        ? tf.depthwiseConv2d(input as tf.Tensor4D, filter as tf.Tensor4D, c.strides, c.pad)
        : tf.conv2d(input as tf.Tensor4D, filter as tf.Tensor4D, c.strides, c.pad);
      return y.square().sum();
    };
    return tf
      .grads(f)([x, w])
      .map((g) => g.dataSync() as Float32Array);
  });
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  a.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(v - b[i]!));
    scale = Math.max(scale, Math.abs(v));
  });
  return diff / scale;
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('wasm training kernels', () => {
  it.each(cases)('$name: input and filter gradients match the cpu backend', async (c) => {
    const reference = await gradients('cpu', c);
    const wasm = await gradients('wasm', c);
    expect(tf.getBackend()).toBe('wasm');
    expect(relativeError(reference[0]!, wasm[0]!)).toBeLessThan(1e-5);
    expect(relativeError(reference[1]!, wasm[1]!)).toBeLessThan(1e-5);
  });

  it('matMul with transpose flags gives the same result as without', async () => {
    await tf.setBackend('wasm');
    tf.tidy(() => {
      const a = tf.randomNormal([3, 5, 4], 0, 1, 'float32', 3);
      const b = tf.randomNormal([3, 6, 5], 0, 1, 'float32', 4);
      const flagged = tf.matMul(a, b, true, true).dataSync();
      const explicit = tf.matMul(a.transpose([0, 2, 1]), b.transpose([0, 2, 1])).dataSync();
      expect(relativeError(explicit as Float32Array, flagged as Float32Array)).toBeLessThan(1e-6);
    });
  });

  it('leaves no tensors behind', async () => {
    const before = tf.memory().numTensors;
    await gradients('wasm', cases[4]!);
    expect(tf.memory().numTensors).toBe(before);
  });
});
