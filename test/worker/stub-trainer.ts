import { resolveTrainingSpec } from '../../src/contracts/training-spec.js';
import type { Evaluation } from '../../src/training/evaluation-metrics.js';
import type { TrainingReport } from '../../src/training/training-types.js';
import type { Trainer } from '../../src/worker/run-training-job.js';

type TrainerRun = Parameters<Trainer>[0];

const evaluation = (accuracy: number): Evaluation => ({
  accuracy,
  loss: 1 - accuracy,
  perClass: [
    { label: 'blue', precision: 1, recall: accuracy, f1: accuracy, support: 2 },
    { label: 'red', precision: accuracy, recall: 1, f1: accuracy, support: 2 },
  ],
  confusionMatrix: [
    [2, 0],
    [0, 2],
  ],
  count: 4,
});

const tried = {
  features: ['top' as const],
  hiddenUnits: 0,
  dropout: 0,
  l2: 0.001,
  mirror: false,
  learningRate: 0.05,
  maxEpochs: 100,
  cvAccuracy: 0.9,
  cvLoss: 0.3,
  iterations: 40,
};

/** A report as the core would return it for a two-class run that kept the head alone. */
export function fakeReport(): TrainingReport {
  const phase = {
    phase: 'featureExtraction' as const,
    epochs: 40,
    learningRate: 0.05,
    batchSize: 8,
    seconds: 1.5,
    imagesPerSecond: 200,
    history: [],
    evaluation: evaluation(0.75),
    bestEpoch: 40,
    stoppedEarly: true,
  };
  return {
    labels: ['blue', 'red'],
    base: {
      id: 'stub-base',
      description: 'no weights at all',
      license: 'MIT',
      trainedOn: 'nothing',
      preprocessing: { size: 24, resize: 'cover', valueRange: [-1, 1], channelOrder: 'RGB' },
      featureLayer: 'features',
    },
    backend: 'stub',
    spec: resolveTrainingSpec({}),
    split: { method: 'stratified', train: 4, val: 4, droppedFromValidation: 0 },
    skipped: [],
    featureCache: { images: 8, seconds: 0.5, imagesPerSecond: 16 },
    phases: { featureExtraction: phase },
    search: { enabled: true, folds: 5, seconds: 1, chosen: tried, tried: [tried] },
    classWeights: { blue: 1, red: 1 },
    calibration: { temperature: 1.2, fittedOn: 'out-of-fold', eceBefore: 0.1, eceAfter: 0.05 },
    kept: 'featureExtraction',
    keptReason: 'the only phase that ran',
    evaluation: evaluation(0.75),
    totalSeconds: 3,
  };
}

/** The last batch of an epoch, with its validation metrics. */
export const epochEnd = {
  stage: 'featureExtraction' as const,
  epoch: 1,
  epochs: 1,
  batch: 1,
  batches: 1,
  loss: 0.4,
  accuracy: 0.8,
  val: { loss: 0.5, accuracy: 0.75 },
  imagesPerSecond: 100,
  progress: 0.5,
  etaSeconds: 1,
};

export interface StubTrainer {
  train: Trainer;
  /** Each run the worker started, in order. */
  runs: TrainerRun[];
}

export interface StubOptions {
  /** Report one finished epoch (default); without it no progress write can race the test. */
  progress?: boolean;
  /** Runs after the model files are written, before the report is returned. */
  during?: (run: TrainerRun) => Promise<void>;
  /** Thrown instead of returning the report. */
  error?: Error;
}

/**
 * Stands in for tfjs: reads every image, reports one finished epoch, writes the three model
 * files, then lets the test act (`during`) before returning the report or throwing `error`.
 */
export function stubTrainer(options: StubOptions = {}): StubTrainer {
  const runs: TrainerRun[] = [];
  const train: Trainer = async (run) => {
    runs.push(run);
    for (const example of run.examples) await run.readImage(example.key);
    if (options.progress ?? true) run.onProgress(epochEnd);
    for (const name of ['weights.bin', 'model.json', 'metadata.json'])
      await run.writeArtifact(name, `${name} of a stub`);
    await options.during?.(run);
    if (options.error) throw options.error;
    return { report: fakeReport() };
  };
  return { train, runs };
}
