import * as tf from '@tensorflow/tfjs';
import { evaluatePredictions, type Evaluation } from './evaluation-metrics.js';
import type { EpochRecord, PhaseName } from './training-types.js';

/** Seeded PRNG (mulberry32): shuffles are reproducible for a given spec seed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(count: number, random: () => number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

/**
 * Lets the event loop run I/O between batches: tfjs resolves trainOnBatch through microtasks
 * only, so without this a caller's progress writes and cancel checks would wait for the
 * whole phase.
 */
const yieldToEventLoop = (): Promise<void> =>
  new Promise((resolve) => (globalThis.setImmediate ?? setTimeout)(resolve));

export interface LabelledTensors {
  x: tf.Tensor;
  /** Class index per row. */
  y: number[];
}

/** Softmax outputs of `model` over every row of x, in batches, as one flat array. */
export function predictAll(model: tf.LayersModel, x: tf.Tensor, batchSize = 64): Float32Array {
  const rows = x.shape[0];
  const chunks: Float32Array[] = [];
  for (let start = 0; start < rows; start += batchSize) {
    const size = Math.min(batchSize, rows - start);
    const slice = x.slice(start, size);
    const probabilities = model.predict(slice) as tf.Tensor;
    slice.dispose();
    chunks.push(probabilities.dataSync() as Float32Array);
    probabilities.dispose();
  }
  const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
  const joined = new Float32Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.length;
  }
  return joined;
}

export function evaluateModel(
  model: tf.LayersModel,
  data: LabelledTensors,
  labels: readonly string[],
): Evaluation {
  return evaluatePredictions(predictAll(model, data.x), data.y, labels);
}

export interface PhaseOptions {
  phase: PhaseName;
  model: tf.LayersModel;
  train: LabelledTensors;
  val: LabelledTensors;
  labels: readonly string[];
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  signal?: AbortSignal;
  onBatch: (info: BatchResult) => void;
}

/** One trained batch; `val` is set on the last batch of an epoch. */
export interface BatchResult {
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  images: number;
  val?: Evaluation;
}

export interface PhaseOutcome {
  history: EpochRecord[];
  evaluation: Evaluation;
  trainSeconds: number;
  imagesTrained: number;
}

/**
 * Trains `model` for some epochs on cached tensors with its own Adam optimizer, checking the
 * abort signal before every batch, and evaluates on the validation rows after each epoch.
 */
export async function trainPhase(options: PhaseOptions): Promise<PhaseOutcome> {
  const { model, train, val, labels, batchSize } = options;
  const optimizer = tf.train.adam(options.learningRate);
  model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const rows = train.x.shape[0];
  const batches = Math.ceil(rows / batchSize);
  const random = seededRandom(options.seed);
  const history: EpochRecord[] = [];
  let trainSeconds = 0;
  let evaluation: Evaluation | undefined;
  try {
    for (let epoch = 1; epoch <= options.epochs; epoch++) {
      const started = performance.now();
      const order = shuffled(rows, random);
      let lossSum = 0;
      let accuracySum = 0;
      for (let b = 0; b < batches; b++) {
        await yieldToEventLoop();
        options.signal?.throwIfAborted();
        const indices = order.slice(b * batchSize, (b + 1) * batchSize);
        const batchStart = performance.now();
        const [x, y] = tf.tidy(() => {
          const idx = tf.tensor1d(indices, 'int32');
          const labelsOf = tf.tensor1d(
            indices.map((i) => train.y[i]!),
            'int32',
          );
          return [tf.gather(train.x, idx), tf.oneHot(labelsOf, labels.length).toFloat()];
        });
        const result = (await model.trainOnBatch(x, y)) as number[];
        x.dispose();
        y.dispose();
        trainSeconds += (performance.now() - batchStart) / 1000;
        const [loss = NaN, accuracy = NaN] = result;
        lossSum += loss * indices.length;
        accuracySum += accuracy * indices.length;
        const last = b === batches - 1;
        if (last) {
          options.signal?.throwIfAborted();
          evaluation = evaluateModel(model, val, labels);
        }
        options.onBatch({
          epoch,
          batch: b + 1,
          batches,
          loss,
          accuracy,
          images: indices.length,
          ...(last ? { val: evaluation } : {}),
        });
      }
      history.push({
        phase: options.phase,
        epoch,
        loss: lossSum / rows,
        accuracy: accuracySum / rows,
        valLoss: evaluation!.loss,
        valAccuracy: evaluation!.accuracy,
        seconds: (performance.now() - started) / 1000,
      });
    }
    evaluation ??= evaluateModel(model, val, labels);
    return { history, evaluation, trainSeconds, imagesTrained: rows * options.epochs };
  } finally {
    optimizer.dispose();
  }
}
