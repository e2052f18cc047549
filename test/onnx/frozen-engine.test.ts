import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { frozenPartEngine } from '../../src/services/frozen-engine.js';
import { selectBackend, type BackendInfo } from '../../src/tfjs/tfjs-backend.js';
import { createTinyBase } from '../helpers/tiny-base.js';

/*
 * Which engine runs the frozen part: ONNX Runtime where the base converts, the wasm extraction
 * threads where it does not (or GRAFT_ONNX=off), nothing but the GPU on tensorflow-gpu; and
 * every fallback says why.
 */

let backend: BackendInfo;
let convertible: tf.LayersModel;
let unconvertible: tf.LayersModel;

beforeAll(async () => {
  backend = await selectBackend('wasm');
  const base = createTinyBase();
  convertible = tf.model({
    inputs: base.inputs,
    outputs: tf.layers.globalAveragePooling2d({}).apply(base.outputs[0]!) as tf.SymbolicTensor,
  });
  // A layer the converter does not know, on the way to an output.
  const x = tf.input({ shape: [8, 8, 3] });
  const rnn = tf.layers
    .simpleRNN({ units: 4 })
    .apply(tf.layers.reshape({ targetShape: [64, 3] }).apply(x)) as tf.SymbolicTensor;
  unconvertible = tf.model({ inputs: x, outputs: rnn });
});

afterAll(() => {
  convertible.dispose();
  unconvertible.dispose();
});

const engineOf = async (
  model: tf.LayersModel,
  env: Record<string, string>,
  info: BackendInfo = backend,
) => {
  const warnings: string[] = [];
  const config = loadConfig({ GRAFT_EXTRACT_THREADS: '2', GRAFT_ONNX_THREADS: '1', ...env });
  const runner = await frozenPartEngine(config, info, (m) => warnings.push(m))(model);
  const engine = runner?.engine;
  await runner?.dispose();
  return { engine, warnings };
};

describe('frozenPartEngine', () => {
  it('runs a base that converts on ONNX Runtime', async () => {
    expect(await engineOf(convertible, {})).toEqual({
      engine: 'onnxruntime (1 thread)',
      warnings: [],
    });
  });

  it('falls back to wasm extraction threads, saying why, where the base does not convert', async () => {
    const { engine, warnings } = await engineOf(unconvertible, {});
    expect(engine).toBe('wasm (2 worker threads)');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ONNX Runtime does not run this base's frozen part.*SimpleRNN/);
  });

  it('keeps tfjs with GRAFT_ONNX=off, in process with one extraction thread', async () => {
    expect((await engineOf(convertible, { GRAFT_ONNX: 'off' })).engine).toBe(
      'wasm (2 worker threads)',
    );
    expect(
      (await engineOf(convertible, { GRAFT_ONNX: 'off', GRAFT_EXTRACT_THREADS: '1' })).engine,
    ).toBeUndefined();
  });

  it('leaves everything to the GPU on tensorflow-gpu', async () => {
    const gpu: BackendInfo = { ...backend, name: 'tensorflow-gpu', tfjsBackend: 'tensorflow' };
    expect(await engineOf(convertible, {}, gpu)).toEqual({ engine: undefined, warnings: [] });
  });
});
