import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { readStored } from '../../src/services/transfer-run.js';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';
import { cacheFrozenOutputs } from '../../src/training/feature-cache.js';
import { StoreUnreadable } from '../../src/training/training-types.js';
import { createTinyBase, syntheticDataset, TINY_ENTRY } from '../helpers/tiny-base.js';

/*
 * An image that cannot be decoded (or is gone) is skipped; an image whose store fails is
 * tried again, then stops the run: a model must not silently train on whatever was readable.
 */

beforeAll(async () => {
  await selectBackend('wasm');
});

const enoent = () => Object.assign(new Error('no such key'), { code: 'ENOENT' });

describe('reading images from the store', () => {
  it('tries a failing store again, and gives up with StoreUnreadable', async () => {
    let calls = 0;
    const flaky = () => {
      calls++;
      return calls < 3 ? Promise.reject(new Error('SlowDown')) : Promise.resolve(Buffer.from('x'));
    };
    expect(await readStored(flaky, 'a.jpg')).toEqual(Buffer.from('x'));
    expect(calls).toBe(3);
    const down = () =>
      Promise.reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' }));
    await expect(readStored(down, 'a.jpg')).rejects.toBeInstanceOf(StoreUnreadable);
    await expect(readStored(() => Promise.reject(enoent()), 'a.jpg')).rejects.toMatchObject({
      code: 'ENOENT',
    });
  });

  it('skips an image that is gone or undecodable, and stops on a failing store', async () => {
    const base = createTinyBase();
    const data = syntheticDataset(4);
    const options = { batchSize: 4, onBatch: () => undefined };
    const skipped: string[] = [];
    const first = data.examples[0]!.key;
    const cached = await cacheFrozenOutputs(
      base,
      data.examples,
      TINY_ENTRY.preprocessing,
      (key) => (key === first ? Promise.reject(enoent()) : data.loadPixels(key)),
      { ...options, onSkip: (key) => skipped.push(key) },
    );
    expect(skipped).toEqual([first]);
    tf.dispose(cached.outputs);
    await expect(
      cacheFrozenOutputs(
        base,
        data.examples,
        TINY_ENTRY.preprocessing,
        (key) =>
          key === first
            ? Promise.reject(new StoreUnreadable('the store is failing'))
            : data.loadPixels(key),
        { ...options, onSkip: () => undefined },
      ),
    ).rejects.toBeInstanceOf(StoreUnreadable);
    base.dispose();
  });
});
