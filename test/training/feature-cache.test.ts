import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onnxFrozenRunner } from '../../src/onnx/onnx-runner.js';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';
import { cacheFrozenOutputs } from '../../src/training/feature-cache.js';
import type { LabelledExample } from '../../src/training/dataset-split.js';
import type { EmbeddingCache, FrozenPartRunner } from '../../src/training/training-types.js';
import { createTinyBase, syntheticDataset, TINY_ENTRY } from '../helpers/tiny-base.js';

/*
 * The feature cache's engines and the embedding cache, on the training core's side: whatever
 * runs the frozen part and whatever was cached before, the rows are the same, in the same order.
 */

let base: tf.LayersModel;
let extractor: tf.LayersModel;

beforeAll(async () => {
  await selectBackend('wasm');
  base = createTinyBase();
  // Two outputs like the real extractor: a pooled block and a rank-4 boundary.
  const pooled = tf.layers.globalAveragePooling2d({}).apply(base.outputs[0]!) as tf.SymbolicTensor;
  const boundary = base.getLayer('block_2_expand').inboundNodes[0]!.inputTensors[0]!;
  extractor = tf.model({ inputs: base.inputs, outputs: [pooled, boundary] });
});

afterAll(() => base.dispose());

/** The embedding cache as the core sees it, in memory; counts what it was asked. */
function memoryCache(): EmbeddingCache & { entries: Map<string, Float32Array[]>; gets: number } {
  const entries = new Map<string, Float32Array[]>();
  const key = (context: string, hash: string, mirrored: boolean) =>
    `${context}|${hash}|${mirrored}`;
  return {
    entries,
    gets: 0,
    get(context, requests) {
      this.gets += requests.length;
      return Promise.resolve(
        requests.map((r) => entries.get(key(context, r.contentHash, r.mirrored))),
      );
    },
    put(context, list) {
      for (const e of list) entries.set(key(context, e.contentHash, e.mirrored), e.outputs);
      return Promise.resolve();
    },
  };
}

function hashed(perClass: number) {
  const data = syntheticDataset(perClass);
  const examples: LabelledExample[] = data.examples.map((e) => ({
    ...e,
    contentHash: `h:${e.key}`,
  }));
  let decoded = 0;
  const loadPixels = (key: string) => {
    decoded++;
    return data.loadPixels(key);
  };
  return { examples, loadPixels, decoded: () => decoded };
}

const run = (
  examples: readonly LabelledExample[],
  loadPixels: (key: string) => Promise<Uint8Array>,
  extra: Partial<Parameters<typeof cacheFrozenOutputs>[4]> = {},
) =>
  cacheFrozenOutputs(extractor, examples, TINY_ENTRY.preprocessing, loadPixels, {
    batchSize: 4,
    mirror: true,
    onBatch: () => undefined,
    onSkip: () => undefined,
    ...extra,
  });

function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);
}

describe('cacheFrozenOutputs', () => {
  it('takes what the embedding cache holds instead of decoding, with the same rows', async () => {
    const data = hashed(5);
    const cache = memoryCache();
    const embeddings = { cache, context: 'ctx' };
    const first = await run(data.examples, data.loadPixels, { embeddings });
    expect(data.decoded()).toBe(10);
    expect(first.fromCache).toBe(0);
    // Upright and mirrored, per image.
    expect(cache.entries.size).toBe(20);
    let started = 0;
    const second = await run(data.examples, data.loadPixels, {
      embeddings,
      runner: () => {
        started++;
        return Promise.resolve(undefined);
      },
    });
    expect(data.decoded()).toBe(10); // nothing decoded again
    expect(second.fromCache).toBe(10);
    // Nothing to extract: no engine was started, none is reported.
    expect(started).toBe(0);
    expect(second.engine).toBeUndefined();
    expect(first.engine).toBe('tfjs');
    expect(second.examples.map((e) => e.key)).toEqual(first.examples.map((e) => e.key));
    expect(second.mirrored).toEqual(first.mirrored);
    second.outputs.forEach((tensor, i) => {
      expect(tensor.shape).toEqual(first.outputs[i]!.shape);
      expect(maxDiff(tensor, first.outputs[i]!)).toBe(0);
    });
    // Another context (another cut, another preprocessing) is another entry.
    await run(data.examples, data.loadPixels, { embeddings: { cache, context: 'other' } });
    expect(data.decoded()).toBe(20);
    tf.dispose([...first.outputs, ...second.outputs]);
  });

  it('mixes cached and computed images in input order', async () => {
    const data = hashed(4);
    const cache = memoryCache();
    const reference = await run(data.examples, data.loadPixels);
    // Cache every other image only.
    const half = data.examples.filter((_, i) => i % 2 === 0);
    await run(half, data.loadPixels, { embeddings: { cache, context: 'c' } });
    const before = data.decoded();
    const mixed = await run(data.examples, data.loadPixels, {
      embeddings: { cache, context: 'c' },
    });
    expect(data.decoded() - before).toBe(4);
    expect(mixed.fromCache).toBe(4);
    expect(mixed.examples.map((e) => e.key)).toEqual(reference.examples.map((e) => e.key));
    mixed.outputs.forEach((t, i) => expect(maxDiff(t, reference.outputs[i]!)).toBeLessThan(1e-6));
    tf.dispose([...reference.outputs, ...mixed.outputs]);
  });

  it('a cache entry of the wrong size is not trusted', async () => {
    const data = hashed(2);
    const cache = memoryCache();
    await run(data.examples, data.loadPixels, { embeddings: { cache, context: 'c' } });
    for (const [key, outputs] of cache.entries) cache.entries.set(key, [outputs[0]!.slice(1)]);
    const before = data.decoded();
    const again = await run(data.examples, data.loadPixels, {
      embeddings: { cache, context: 'c' },
    });
    expect(data.decoded() - before).toBe(4);
    expect(again.fromCache).toBe(0);
    tf.dispose(again.outputs);
  });

  it('runs the frozen part on ONNX Runtime with the same outputs as tfjs', async () => {
    const data = hashed(3);
    const reference = await run(data.examples, data.loadPixels);
    const runner = await onnxFrozenRunner(extractor, { threads: 2 });
    const onnx = await run(data.examples, data.loadPixels, {
      runner: () => Promise.resolve(runner),
    });
    await runner.dispose();
    expect(reference.engine).toBe('tfjs');
    expect(onnx.engine).toMatch(/^onnxruntime \(2 threads\)$/);
    onnx.outputs.forEach((t, i) => {
      expect(t.shape).toEqual(reference.outputs[i]!.shape);
      expect(maxDiff(t, reference.outputs[i]!)).toBeLessThan(1e-4);
    });
    tf.dispose([...reference.outputs, ...onnx.outputs]);
  });

  it('goes on with tfjs when the runner fails, and says so', async () => {
    const data = hashed(3);
    const reference = await run(data.examples, data.loadPixels);
    let failures = 0;
    const broken: FrozenPartRunner = {
      engine: 'broken engine',
      run: () => Promise.reject(new Error('session lost')),
      dispose: () => Promise.resolve(),
    };
    const result = await run(data.examples, data.loadPixels, {
      runner: () => Promise.resolve(broken),
      onRunnerFailed: () => failures++,
    });
    expect(failures).toBe(1);
    expect(result.engine).toBe('broken engine, then tfjs after it failed');
    result.outputs.forEach((t, i) => expect(maxDiff(t, reference.outputs[i]!)).toBe(0));
    tf.dispose([...reference.outputs, ...result.outputs]);
  });
});
