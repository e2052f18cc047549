import type { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createExtractionPool,
  extractionRunner,
  splitRows,
} from '../../src/tfjs/extraction-pool.js';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';
import { featureBlocks } from '../../src/training/feature-blocks.js';
import type { FrozenPartRunner } from '../../src/training/training-types.js';
import { createTinyBase, TINY_SIZE } from '../helpers/tiny-base.js';

// Every thread the pool starts, so a test can kill one.
const started = vi.hoisted(() => [] as Worker[]);
vi.mock('node:worker_threads', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:worker_threads')>();
  class RecordedWorker extends original.Worker {
    constructor(...args: ConstructorParameters<typeof original.Worker>) {
      super(...args);
      started.push(this);
    }
  }
  return { ...original, Worker: RecordedWorker };
});

const PER_IMAGE = TINY_SIZE * TINY_SIZE * 3;

/** Shaped like the core's extractor: pooled top and mid, pixel thumbnails, a rank-4 boundary. */
function tinyExtractor(): tf.LayersModel {
  const base = createTinyBase();
  const blocks = featureBlocks(
    base,
    base.getLayer('out_relu').output as tf.SymbolicTensor,
    base.getLayer('block_1_add').output as tf.SymbolicTensor,
    tf.layers.globalAveragePooling2d({ name: 'graft_pool' }),
  );
  return tf.model({
    inputs: base.inputs,
    outputs: [
      blocks.top!,
      blocks.mid!,
      blocks.gray!,
      blocks.colour!,
      base.getLayer('block_2_expand_relu').output as tf.SymbolicTensor,
    ],
  });
}

function images(batch: number, seed: number): Float32Array {
  const tensor = tf.randomUniform([batch * PER_IMAGE], -1, 1, 'float32', seed);
  const values = tensor.dataSync<'float32'>();
  tensor.dispose();
  return values;
}

function inProcess(model: tf.LayersModel, input: Float32Array, batch: number): Float32Array[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(input, [batch, TINY_SIZE, TINY_SIZE, 3]);
    const result = model.predict(x);
    return (Array.isArray(result) ? result : [result]).map((t) => t.dataSync() as Float32Array);
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  return a.reduce((max, v, i) => Math.max(max, Math.abs(v - b[i]!)), 0);
}

describe('extraction pool', () => {
  let extractor: tf.LayersModel;
  let pool: FrozenPartRunner;

  beforeAll(async () => {
    await selectBackend('wasm');
    extractor = tinyExtractor();
    pool = await createExtractionPool(extractor, { threads: 2 });
  });

  afterAll(async () => {
    await pool.dispose();
    extractor.dispose();
  });

  it('cuts batches into contiguous slices, fewer than the threads for tiny batches', () => {
    expect(splitRows(16, 2)).toEqual([
      { start: 0, count: 8 },
      { start: 8, count: 8 },
    ]);
    expect(splitRows(5, 2)).toEqual([
      { start: 0, count: 3 },
      { start: 3, count: 2 },
    ]);
    expect(splitRows(1, 2)).toEqual([{ start: 0, count: 1 }]);
  });

  it.each([1, 5, 16])(
    'matches in-process predict at batch %i, rows in input order',
    async (batch) => {
      expect(pool.engine).toBe('wasm (2 worker threads)');
      const input = images(batch, batch);
      const copy = input.slice();
      const outputs = await pool.run(input, batch);
      expect(input).toEqual(copy); // the caller's input is left intact
      const expected = inProcess(extractor, input, batch);
      expect(outputs).toHaveLength(5);
      outputs.forEach((output, i) => expect(maxAbsDiff(output, expected[i]!)).toBeLessThan(1e-5));
      // Each image alone gives its own row: nothing is reordered across the threads.
      if (batch > 1) {
        const last = await pool.run(input.slice((batch - 1) * PER_IMAGE), 1);
        const rowLength = last[0]!.length;
        expect(maxAbsDiff(last[0]!, outputs[0]!.slice(-rowLength))).toBeLessThan(1e-5);
      }
    },
  );

  it('rejects a run the thread cannot do with its reason, and keeps working', async () => {
    const wrongSize = new Float32Array(4 * 20 * 20 * 3);
    await expect(pool.run(wrongSize, 4)).rejects.toThrow(
      /input has 2400 values, expected 3456 for 2 images of 24×24×3/,
    );
    await expect(pool.run(new Float32Array(7), 2)).rejects.toThrow(/cannot hold 2 equal images/);
    const input = images(3, 3);
    const outputs = await pool.run(input, 3);
    expect(maxAbsDiff(outputs[0]!, inProcess(extractor, input, 3)[0]!)).toBeLessThan(1e-5);
  });

  it('fails pending runs when a thread dies, and refuses runs afterwards', async () => {
    started.length = 0;
    const doomed = await createExtractionPool(extractor, { threads: 2 });
    expect(started).toHaveLength(2);
    const running = doomed.run(images(512, 9), 512);
    await started[1]!.terminate();
    await expect(running).rejects.toThrow(/extraction thread 1 died: exited with code 1/);
    await expect(doomed.run(images(1, 1), 1)).rejects.toThrow(/extraction pool is unusable/);
    await doomed.dispose();
  });

  it('ends its threads on dispose', async () => {
    started.length = 0;
    const pool2 = await createExtractionPool(extractor, { threads: 2 });
    const exited = started.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
    await pool2.dispose();
    await Promise.all(exited);
    await expect(pool2.run(images(1, 1), 1)).rejects.toThrow(/unusable: it was disposed/);
  });

  it('rejects start-up when a thread cannot start', async () => {
    await expect(
      createExtractionPool(extractor, { threads: 2, backend: 'tensorflow' }),
    ).rejects.toThrow(/extraction threads could not start: No tfjs backend .*tensorflow/);
  });

  it('runs in process (no runner) for one thread', async () => {
    await expect(extractionRunner(extractor, { threads: 1 })).resolves.toBeUndefined();
  });
});
