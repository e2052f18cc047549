import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/tfjs/tfjs-backend.js';
import {
  expectedCalibrationError,
  fitTemperature,
  withTemperature,
} from '../../src/training/calibration.js';
import { trainBank } from '../../src/training/head-bank.js';
import { assignFolds } from '../../src/training/head-search.js';
import { seededRandom, trainPhase } from '../../src/training/phase-trainer.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('temperature scaling', () => {
  it('lowers the expected calibration error of an over-confident model', () => {
    // The model says 0.99 for its top class but is right only 70% of the time.
    const random = seededRandom(5);
    const n = 600;
    const probabilities = new Float32Array(n * 3);
    const truth: number[] = [];
    for (let i = 0; i < n; i++) {
      const predicted = Math.floor(random() * 3);
      probabilities.set([0.005, 0.005, 0.005], i * 3);
      probabilities[i * 3 + predicted] = 0.99;
      truth.push(random() < 0.7 ? predicted : (predicted + 1 + Math.floor(random() * 2)) % 3);
    }
    const before = expectedCalibrationError(probabilities, truth, 3);
    const temperature = fitTemperature(probabilities, truth, 3);
    const after = expectedCalibrationError(
      withTemperature(probabilities, 3, temperature),
      truth,
      3,
    );
    expect(before).toBeGreaterThan(0.25);
    expect(temperature).toBeGreaterThan(1.5);
    expect(after).toBeLessThan(0.05);
  });

  it('trusts a few held-out images less than many (prior on T = 1)', () => {
    const overconfident = (n: number) => {
      const probabilities = new Float32Array(n * 2);
      const truth: number[] = [];
      for (let i = 0; i < n; i++) {
        probabilities.set([0.99, 0.01], i * 2);
        truth.push(i % 10 < 7 ? 0 : 1); // right 70% of the time
      }
      return fitTemperature(probabilities, truth, 2);
    };
    const few = overconfident(20);
    const many = overconfident(2000);
    expect(few).toBeGreaterThan(1);
    expect(few).toBeLessThan(many);
  });

  it('leaves a calibrated model alone (temperature near 1)', () => {
    const random = seededRandom(9);
    const probabilities = new Float32Array(2000 * 2);
    const truth: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const p = 0.5 + random() * 0.5;
      probabilities.set([p, 1 - p], i * 2);
      truth.push(random() < p ? 0 : 1);
    }
    expect(fitTemperature(probabilities, truth, 2)).toBeCloseTo(1, 0);
  });
});

describe('cross-validation folds', () => {
  it('are stratified and depend only on the key, never on order', () => {
    const keys = Array.from({ length: 40 }, (_, i) => `img-${i}`);
    const labels = keys.map((_, i) => i % 2);
    const folds = assignFolds(keys, labels, 4, 1);
    for (let f = 0; f < 4; f++) {
      const members = labels.filter((_, i) => folds[i] === f);
      expect(members.filter((l) => l === 0)).toHaveLength(5);
      expect(members.filter((l) => l === 1)).toHaveLength(5);
    }
    const reversed = assignFolds([...keys].reverse(), [...labels].reverse(), 4, 1);
    expect([...reversed].reverse()).toEqual([...folds]);
  });
});

describe('class weights', () => {
  it('make a head find the minority class it would otherwise ignore', async () => {
    // One noisy feature; class 1 is 10% of the rows and overlaps class 0.
    const random = seededRandom(3);
    const n = 400;
    const y = Int32Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 1 : 0));
    const x = tf.tensor2d(
      Array.from(y).map((label) => [label + (random() - 0.5) * 2.2]),
      [n, 1],
    );
    const minority = y.reduce((s, v) => s + v, 0);
    const weights = (w1: number) => Float32Array.from(y, (label) => (label === 1 ? w1 : 1));
    const all = Int32Array.from(y.keys());
    const { groups } = await trainBank({
      x,
      y,
      classes: 2,
      models: [
        { rowWeights: weights(1), heldOut: all, l2: 1e-4 },
        { rowWeights: weights((n - minority) / minority), heldOut: all, l2: 1e-4 },
      ],
      hiddenUnits: 0,
      dropout: 0,
      learningRate: 0.05,
      checkpointEvery: 20,
      maxCheckpoints: 10,
      patience: Number.POSITIVE_INFINITY,
      groups: Int32Array.from([0, 1]),
      seed: 1,
    });
    x.dispose();
    const recall = (group: number) => {
      const p = groups.get(group)!.outOfFold;
      let found = 0;
      y.forEach((label, i) => (found += label === 1 && p[i * 2 + 1]! > p[i * 2]! ? 1 : 0));
      return found / minority;
    };
    expect(recall(0)).toBeLessThanOrEqual(0.3);
    expect(recall(1)).toBeGreaterThanOrEqual(recall(0) + 0.4);
  });
});

describe('early stopping', () => {
  it('stops when held-out loss stops improving and restores the best epoch', async () => {
    const input = tf.input({ shape: [2] });
    const model = tf.model({
      inputs: input,
      outputs: tf.layers
        .dense({
          units: 2,
          activation: 'softmax',
          kernelInitializer: 'zeros',
        })
        .apply(input) as tf.SymbolicTensor,
    });
    // Training labels are the opposite of the held-out ones: after the first epoch, every
    // epoch makes held-out loss worse.
    const x = tf.tensor2d([
      [1, 0],
      [0, 1],
      [1, 0],
      [0, 1],
    ]);
    const outcome = await trainPhase({
      phase: 'fineTuning',
      model,
      train: { x, y: [0, 1, 0, 1] },
      val: { x, y: [1, 0, 1, 0] },
      labels: ['a', 'b'],
      epochs: 8,
      batchSize: 4,
      learningRate: 0.1,
      seed: 1,
      patience: 2,
      onBatch: () => undefined,
    });
    expect(outcome.bestEpoch).toBe(1);
    expect(outcome.stoppedEarly).toBe(true);
    expect(outcome.history).toHaveLength(3);
    expect(outcome.history[0]!.valLoss).toBeLessThan(outcome.history[2]!.valLoss);
    // The model now holds epoch 1's weights: its held-out loss is epoch 1's.
    const now = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
    expect(Array.from(now)).toEqual(Array.from(outcome.probabilities));
    expect(outcome.evaluation.loss).toBeCloseTo(outcome.history[0]!.valLoss, 6);
    x.dispose();
  });
});
