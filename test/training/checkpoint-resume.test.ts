import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveTrainingSpec } from '../../src/contracts/training-spec.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/storage/training-checkpoints.js';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';
import type {
  FeaturesCheckpoint,
  PhaseCheckpoint,
  TrainingCheckpoints,
} from '../../src/training/checkpoint-types.js';
import { disposeModelWeights } from '../../src/training/model-surgery.js';
import { trainTransferModel } from '../../src/training/transfer-training.js';
import { createTinyBase, syntheticDataset, TINY_ENTRY } from '../helpers/tiny-base.js';

/*
 * A run stopped after a fine-tuning epoch and continued from its checkpoints (through the
 * store's encoding) ends exactly where an uninterrupted run ends, without decoding an image
 * again.
 */

const spec = resolveTrainingSpec({
  featureExtraction: { learningRate: 0.05 },
  fineTuning: { epochs: 4, batchSize: 8, learningRate: 0.005 },
  search: { folds: 3 },
  validationSplit: 0.25,
  seed: 5,
});

/** Checkpoints kept in memory, encoded and decoded as the store would. */
function memoryCheckpoints(from?: { features?: Buffer; fineTuning?: Buffer }) {
  const saved: { features?: Buffer; fineTuning?: Buffer; epochs: number[] } = { epochs: [] };
  const checkpoints: TrainingCheckpoints = {
    ...(from?.features ? { features: decodeCheckpoint(from.features) as FeaturesCheckpoint } : {}),
    phases: from?.fineTuning
      ? { fineTuning: decodeCheckpoint(from.fineTuning) as PhaseCheckpoint }
      : {},
    saveFeatures: (c) => {
      saved.features = encodeCheckpoint(c);
      return Promise.resolve();
    },
    savePhase: (c) => {
      saved.fineTuning = encodeCheckpoint(c);
      saved.epochs.push(c.epoch);
      return Promise.resolve();
    },
  };
  return { checkpoints, saved };
}

async function run(checkpoints: TrainingCheckpoints | undefined, signal?: AbortSignal) {
  const base = createTinyBase();
  const data = syntheticDataset(16);
  let decoded = 0;
  try {
    const { report, classifier } = await trainTransferModel({
      base,
      entry: TINY_ENTRY,
      examples: data.examples,
      loadPixels: (key) => {
        decoded++;
        return data.loadPixels(key);
      },
      spec,
      backend: 'wasm',
      ...(signal ? { signal } : {}),
      ...(checkpoints ? { checkpoints } : {}),
    });
    disposeModelWeights(classifier, base);
    return { report, decoded };
  } catch (error) {
    disposeModelWeights(base);
    throw error;
  }
}

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('checkpoints', () => {
  it('round-trips typed arrays and JSON through the encoding', () => {
    const value = {
      a: new Float32Array([1.5, -2, 3]),
      b: { c: new Int32Array([7, 8]), d: new Uint8Array([1, 0, 1]) },
      e: 'text',
      f: [1, null, { g: new Float32Array(0) }],
    };
    expect(decodeCheckpoint(encodeCheckpoint(value))).toEqual(value);
    expect(() => decodeCheckpoint(Buffer.from('nope'))).toThrow();
    expect(() => decodeCheckpoint(encodeCheckpoint(value).subarray(0, 40))).toThrow();
  });

  it('continues a stopped run from its last epoch and ends where an unbroken run ends', async () => {
    const unbroken = await run(undefined);

    // First run: stopped once fine-tuning epoch 2 is saved.
    const controller = new AbortController();
    const first = memoryCheckpoints();
    const save = first.checkpoints.savePhase.bind(first.checkpoints);
    first.checkpoints.savePhase = async (c) => {
      await save(c);
      if (c.epoch === 2) controller.abort(new Error('worker killed'));
    };
    await expect(run(first.checkpoints, controller.signal)).rejects.toThrow();
    expect(first.saved.features).toBeDefined();
    expect(first.saved.epochs).toEqual([1, 2]);

    // Second run: from those checkpoints.
    const before = tf.memory().numTensors;
    const second = memoryCheckpoints(first.saved);
    const resumed = await run(second.checkpoints);
    expect(tf.memory().numTensors).toBe(before);
    expect(resumed.decoded).toBe(0);
    expect(second.saved.features).toBeUndefined();
    const epochs = unbroken.report.phases.fineTuning!.history.map((h) => h.epoch);
    expect(epochs.length).toBeGreaterThan(2);
    expect(second.saved.epochs).toEqual(epochs.slice(2));
    const history = resumed.report.phases.fineTuning!.history;
    expect(history.map((h) => h.epoch)).toEqual(epochs);
    const losses = (r: typeof resumed.report) =>
      r.phases.fineTuning!.history.map((h) => h.valLoss.toFixed(5));
    expect(losses(resumed.report)).toEqual(losses(unbroken.report));
    expect(resumed.report.evaluation.loss).toBeCloseTo(unbroken.report.evaluation.loss, 5);
    expect(resumed.report.kept).toBe(unbroken.report.kept);
  });

  it('ignores checkpoints that do not fit this run', async () => {
    const first = memoryCheckpoints();
    await run(first.checkpoints);
    // Fine-tuning weights of another shape (another model): trained from the start again.
    const phase = decodeCheckpoint(first.saved.fineTuning!) as PhaseCheckpoint;
    phase.weights = phase.weights.slice(1);
    const second = memoryCheckpoints({
      features: first.saved.features!,
      fineTuning: encodeCheckpoint(phase),
    });
    const again = await run(second.checkpoints);
    expect(again.decoded).toBe(0);
    expect(second.saved.epochs[0]).toBe(1);
  });
});
