import * as tf from '@tensorflow/tfjs';
import { sameShapes, savedTensor, tensorOf } from './checkpoint-tensors.js';
import type { PhaseCheckpoint } from './checkpoint-types.js';
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
  /** One tensor per model input, first axis = rows. */
  x: tf.Tensor | tf.Tensor[];
  /** Class index per row. */
  y: number[];
}

const inputsOf = (x: tf.Tensor | tf.Tensor[]): tf.Tensor[] => (Array.isArray(x) ? x : [x]);

/** Softmax outputs of `model` over every row of x, in batches, as one flat array. */
export function predictAll(
  model: tf.LayersModel,
  x: tf.Tensor | tf.Tensor[],
  batchSize = 64,
): Float32Array {
  const rows = inputsOf(x)[0]!.shape[0];
  const chunks: Float32Array[] = [];
  for (let start = 0; start < rows; start += batchSize) {
    const size = Math.min(batchSize, rows - start);
    const slice = inputsOf(x).map((t) => t.slice(start, size));
    const probabilities = model.predict(slice.length === 1 ? slice[0]! : slice) as tf.Tensor;
    tf.dispose(slice);
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
  /** Loss weight per class (absent: all 1). */
  classWeights?: number[];
  /** Stop after this many epochs without a lower validation loss, restoring the best epoch. */
  patience?: number;
  signal?: AbortSignal;
  onBatch: (info: BatchResult) => void;
  /** An earlier run's state at the end of an epoch: training continues from the next one. */
  resume?: PhaseCheckpoint;
  /** Identifies this phase's model and data; a checkpoint with another one is not used. */
  checkpointContext?: string;
  /** Told when `resume` fits and training continues from it. */
  onResumed?: (epoch: number) => void;
  /** Called at the end of every epoch with the state to continue from; awaited. */
  onEpochEnd?: (checkpoint: PhaseCheckpoint) => Promise<void>;
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
  /** Evaluation at the best epoch (the one whose weights the model has). */
  evaluation: Evaluation;
  /** Softmax outputs on the validation rows at the best epoch. */
  probabilities: Float32Array;
  bestEpoch: number;
  stoppedEarly: boolean;
  trainSeconds: number;
  imagesTrained: number;
  /** The epoch an earlier run's checkpoint had completed, when this one continued from it. */
  resumedAfterEpoch?: number;
}

/** The checkpoint to continue from, if it belongs to this phase and fits this model. */
function usableCheckpoint(options: PhaseOptions): PhaseCheckpoint | undefined {
  const resume = options.resume;
  const shapes = options.model.trainableWeights.map((w) => w.shape);
  if (
    !resume ||
    resume.context !== options.checkpointContext ||
    resume.phase !== options.phase ||
    resume.epoch < 1 ||
    resume.epoch > options.epochs ||
    !sameShapes(resume.weights, shapes) ||
    (resume.bestWeights !== undefined && !sameShapes(resume.bestWeights, shapes))
  )
    return undefined;
  return resume;
}

async function phaseCheckpoint(
  options: PhaseOptions,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  state: Pick<PhaseCheckpoint, 'epoch' | 'history' | 'evaluation' | 'best' | 'trainSeconds'> & {
    bestWeights: tf.Tensor[] | undefined;
  },
): Promise<PhaseCheckpoint> {
  const moments = await optimizer.getWeights();
  const saved = moments.map(({ name, tensor }) => ({ name, tensor: savedTensor(tensor) }));
  // The step count is a new scalar; the moments are the optimizer's own variables.
  moments.filter((m) => m.name === 'iter').forEach((m) => m.tensor.dispose());
  return {
    context: options.checkpointContext ?? '',
    phase: options.phase,
    epoch: state.epoch,
    history: [...state.history],
    evaluation: state.evaluation,
    best: state.best,
    ...(state.bestWeights ? { bestWeights: state.bestWeights.map(savedTensor) } : {}),
    weights: model.trainableWeights.map((w) => savedTensor(w.read())),
    optimizer: saved,
    trainSeconds: state.trainSeconds,
  };
}

/** Cross-entropy with a weight per class, for imbalanced data. */
function weightedCrossEntropy(weights: number[]) {
  const w = tf.tensor1d(weights);
  const loss = (yTrue: tf.Tensor, yPred: tf.Tensor): tf.Tensor =>
    tf.tidy(() => yTrue.mul(yPred.clipByValue(1e-7, 1).log()).mul(w).sum(-1).neg());
  return { loss, dispose: () => w.dispose() };
}

/**
 * Trains `model` for some epochs on cached tensors with its own Adam optimizer, checking the
 * abort signal before every batch, and evaluates on the held-out rows after each epoch. With
 * `patience`, stops early and restores the weights of the epoch with the lowest held-out loss.
 */
export async function trainPhase(options: PhaseOptions): Promise<PhaseOutcome> {
  const { model, train, val, labels, batchSize } = options;
  const optimizer = tf.train.adam(options.learningRate);
  const weighted = options.classWeights && weightedCrossEntropy(options.classWeights);
  model.compile({
    optimizer,
    loss: weighted ? weighted.loss : 'categoricalCrossentropy',
    metrics: ['accuracy'],
  });
  const rows = inputsOf(train.x)[0]!.shape[0];
  if (rows === 0 || inputsOf(val.x)[0]!.shape[0] === 0)
    throw new Error(`${options.phase}: nothing to train on or to judge it by`);
  const batches = Math.ceil(rows / batchSize);
  const random = seededRandom(options.seed);
  const history: EpochRecord[] = [];
  let trainSeconds = 0;
  let evaluation: Evaluation | undefined;
  let best: { epoch: number; evaluation: Evaluation; probabilities: Float32Array } | undefined;
  let bestWeights: tf.Tensor[] | undefined;
  let stoppedEarly = false;
  let firstEpoch = 1;
  const resume = usableCheckpoint(options);
  try {
    if (resume) {
      const weights = resume.weights.map(tensorOf);
      model.trainableWeights.forEach((w, i) => w.write(weights[i]!));
      const moments = resume.optimizer.map(({ name, tensor }) => ({
        name,
        tensor: tensorOf(tensor),
      }));
      await optimizer.setWeights(moments);
      tf.dispose([...weights, ...moments.map((m) => m.tensor)]);
      // The shuffles of the epochs already run, drawn again: the next one is the same.
      for (let epoch = 1; epoch <= resume.epoch; epoch++) shuffled(rows, random);
      history.push(...resume.history);
      trainSeconds = resume.trainSeconds;
      best = { ...resume.best };
      bestWeights = resume.bestWeights?.map(tensorOf);
      evaluation = resume.evaluation;
      firstEpoch = resume.epoch + 1;
      options.onResumed?.(resume.epoch);
      if (options.patience !== undefined && resume.epoch - best.epoch >= options.patience) {
        stoppedEarly = resume.epoch < options.epochs;
        firstEpoch = options.epochs + 1;
      }
    }
    for (let epoch = firstEpoch; epoch <= options.epochs; epoch++) {
      const started = performance.now();
      const order = shuffled(rows, random);
      let lossSum = 0;
      let accuracySum = 0;
      for (let b = 0; b < batches; b++) {
        await yieldToEventLoop();
        options.signal?.throwIfAborted();
        const indices = order.slice(b * batchSize, (b + 1) * batchSize);
        const batchStart = performance.now();
        const [y, ...x] = tf.tidy(() => {
          const idx = tf.tensor1d(indices, 'int32');
          const labelsOf = tf.tensor1d(
            indices.map((i) => train.y[i]!),
            'int32',
          );
          return [
            tf.oneHot(labelsOf, labels.length).toFloat(),
            ...inputsOf(train.x).map((t) => tf.gather(t, idx)),
          ];
        });
        const result = (await model.trainOnBatch(x.length === 1 ? x[0]! : x, y)) as number[];
        tf.dispose([...x, y]);
        trainSeconds += (performance.now() - batchStart) / 1000;
        const [loss = NaN, accuracy = NaN] = result;
        lossSum += loss * indices.length;
        accuracySum += accuracy * indices.length;
        const last = b === batches - 1;
        if (last) {
          options.signal?.throwIfAborted();
          const probabilities = predictAll(model, val.x);
          evaluation = evaluatePredictions(probabilities, val.y, labels);
          if (!best || evaluation.loss < best.evaluation.loss) {
            best = { epoch, evaluation, probabilities };
            tf.dispose(bestWeights);
            bestWeights = model.trainableWeights.map((w) => w.read().clone());
          }
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
      if (options.onEpochEnd) {
        const checkpoint = await phaseCheckpoint(options, model, optimizer, {
          epoch,
          history,
          evaluation: evaluation!,
          best: best!,
          bestWeights,
          trainSeconds,
        });
        await options.onEpochEnd(checkpoint);
      }
      if (options.patience !== undefined && epoch - best!.epoch >= options.patience) {
        stoppedEarly = epoch < options.epochs;
        break;
      }
    }
    if (!best) {
      const probabilities = predictAll(model, val.x);
      best = {
        epoch: 0,
        evaluation: evaluatePredictions(probabilities, val.y, labels),
        probabilities,
      };
    } else if (options.patience !== undefined && bestWeights) {
      model.trainableWeights.forEach((w, i) => w.write(bestWeights![i]!));
    }
    return {
      history,
      evaluation: options.patience !== undefined ? best.evaluation : evaluation!,
      probabilities: best.probabilities,
      bestEpoch: options.patience !== undefined ? best.epoch : options.epochs,
      stoppedEarly,
      trainSeconds,
      imagesTrained: rows * history.length,
      ...(resume ? { resumedAfterEpoch: resume.epoch } : {}),
    };
  } finally {
    optimizer.dispose();
    weighted?.dispose();
    tf.dispose(bestWeights);
  }
}
