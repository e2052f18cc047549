import * as tf from '@tensorflow/tfjs';
import type { TrainingSpec } from '../contracts/training-spec.js';
import { exportClassifier } from './classifier-export.js';
import {
  createHead,
  disposeSnapshot,
  restoreWeights,
  snapshotWeights,
  type ClassifierHead,
} from './classifier-head.js';
import { splitDataset, type LabelledExample } from './dataset-split.js';
import type { Evaluation } from './evaluation-metrics.js';
import { cacheFrozenOutputs } from './feature-cache.js';
import { freezeBatchNorm } from './frozen-batch-norm.js';
import { lastFeatureMapLayer, planCut, rebuildTop, type CutPlan } from './model-surgery.js';
import { trainPhase, type LabelledTensors, type PhaseOutcome } from './phase-trainer.js';
import { ProgressTracker } from './progress-tracker.js';
import type {
  PhaseName,
  PhaseReport,
  TrainingReport,
  TransferTrainingInput,
  TransferTrainingResult,
} from './training-types.js';

const EXTRACT_BATCH = 16;

/**
 * The negative-transfer guard: fine-tuning is kept only if it validates at least as well as
 * the head alone (higher accuracy, or equal accuracy and no higher loss).
 */
export function choosePhase(
  headOnly: Evaluation,
  fineTuned: Evaluation,
): { kept: PhaseName; reason: string } {
  const describe = (e: Evaluation) =>
    `${e.accuracy.toFixed(4)} accuracy (loss ${e.loss.toFixed(4)})`;
  const better =
    fineTuned.accuracy > headOnly.accuracy ||
    (fineTuned.accuracy === headOnly.accuracy && fineTuned.loss <= headOnly.loss);
  return better
    ? {
        kept: 'fineTuning',
        reason: `fine-tuning validated at ${describe(fineTuned)}, head-only at ${describe(headOnly)}`,
      }
    : {
        kept: 'featureExtraction',
        reason: `negative transfer: fine-tuning validated at ${describe(fineTuned)}, worse than head-only ${describe(headOnly)}; the head-only weights were restored`,
      };
}

/** Refuses to train when unreadable images left a class with nothing to train or validate on. */
function requireImages(
  labels: readonly string[],
  train: readonly number[],
  val: readonly number[],
  skipped: TrainingReport['skipped'],
): void {
  const missing = labels.filter((_, c) => !train.includes(c) || !val.includes(c));
  if (missing.length === 0) return;
  const first = skipped[0];
  throw new Error(
    `no usable training or validation images left for ${missing.map((l) => `'${l}'`).join(', ')}: ` +
      `${skipped.length} image(s) could not be read` +
      (first ? ` (first: ${first.key}: ${first.reason})` : ''),
  );
}

/** Cached frozen outputs of one split: pooled features (phase 1) and boundary activations (phase 2). */
interface CachedSplit {
  pooled: LabelledTensors;
  boundary: LabelledTensors;
}

/** State shared by the steps of one run. */
interface Run {
  input: TransferTrainingInput;
  spec: TrainingSpec;
  labels: string[];
  cut: CutPlan & { unfreezeFrom: string };
  head: ClassifierHead;
  tracker: ProgressTracker;
}

function phaseReport(
  phase: PhaseName,
  settings: { epochs: number; learningRate: number; batchSize: number },
  outcome: PhaseOutcome,
  seconds: number,
): PhaseReport {
  return {
    phase,
    epochs: settings.epochs,
    learningRate: settings.learningRate,
    batchSize: settings.batchSize,
    seconds,
    imagesPerSecond: outcome.imagesTrained / Math.max(outcome.trainSeconds, 1e-9),
    history: outcome.history,
    evaluation: outcome.evaluation,
  };
}

async function timed<T>(work: () => Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, (performance.now() - started) / 1000];
}

/** Phase 1: the head alone, on cached pooled features. */
async function trainHead(run: Run, train: CachedSplit, val: CachedSplit): Promise<PhaseReport> {
  const { spec, head, tracker } = run;
  const settings = spec.featureExtraction;
  const features = tf.input({ shape: train.pooled.x.shape.slice(1), name: 'graft_features' });
  const model = tf.model({ inputs: features, outputs: head.apply(features) });
  const [outcome, seconds] = await timed(() =>
    trainPhase({
      phase: 'featureExtraction',
      model,
      train: train.pooled,
      val: val.pooled,
      labels: run.labels,
      ...settings,
      seed: spec.seed,
      signal: run.input.signal,
      onBatch: (info) => tracker.trained('featureExtraction', settings.epochs, info),
    }),
  );
  return phaseReport('featureExtraction', settings, outcome, seconds);
}

/**
 * Phase 2: the unfrozen top of the base (BN layers stay frozen) plus the head, rebuilt on the
 * cached boundary activations. If it validates worse than phase 1, phase 1's weights return.
 */
async function fineTune(
  run: Run,
  train: CachedSplit,
  val: CachedSplit,
  headReport: PhaseReport,
): Promise<{ report: PhaseReport; kept: PhaseName; reason: string }> {
  const { input, spec, cut, head, tracker } = run;
  const settings = spec.fineTuning;
  const trainable = input.base.layers.filter(
    (layer) => cut.topLayers.includes(layer.name) && layer.getClassName() !== 'BatchNormalization',
  );
  const saved = snapshotWeights([...trainable, ...head.layers]);
  try {
    trainable.forEach((layer) => (layer.trainable = true));
    const top = rebuildTop(cut.boundary!, cut.features);
    const model = tf.model({
      inputs: top.input,
      outputs: head.apply(head.pool.apply(top.output) as tf.SymbolicTensor),
    });
    const [outcome, seconds] = await timed(() =>
      trainPhase({
        phase: 'fineTuning',
        model,
        train: train.boundary,
        val: val.boundary,
        labels: run.labels,
        epochs: settings.epochs,
        batchSize: settings.batchSize,
        learningRate: settings.learningRate,
        seed: spec.seed + 1,
        signal: input.signal,
        onBatch: (info) => tracker.trained('fineTuning', settings.epochs, info),
      }),
    );
    const report: PhaseReport = {
      ...phaseReport('fineTuning', settings, outcome, seconds),
      unfreezeFrom: cut.unfreezeFrom,
      trainableLayers: trainable.length,
    };
    const decision = choosePhase(headReport.evaluation, report.evaluation);
    if (decision.kept === 'featureExtraction') restoreWeights(saved);
    return { report, ...decision };
  } finally {
    trainable.forEach((layer) => (layer.trainable = false));
    disposeSnapshot(saved);
  }
}

/**
 * The transfer-learning cycle: cache the frozen base's outputs once, train a new head on
 * them, unfreeze the top of the base and fine-tune it at a lower rate on cached activations
 * of the still-frozen bottom, keep whichever phase validates better, and export the result.
 */
export async function trainTransferModel(
  input: TransferTrainingInput,
): Promise<TransferTrainingResult> {
  const started = performance.now();
  const { base, entry, spec } = input;
  const split = splitDataset(input.examples, spec.validationSplit, spec.seed);
  const featureLayer = entry.featureLayer || lastFeatureMapLayer(base);
  freezeBatchNorm(base);
  base.layers.forEach((layer) => (layer.trainable = false));
  const run: Run = {
    input,
    spec,
    labels: split.labels,
    cut: planCut(base, featureLayer, {
      unfreezeFrom: spec.fineTuning.unfreezeFrom,
      unfreezeLayers: spec.fineTuning.unfreezeLayers,
      fallback: entry.defaultUnfreezeFrom,
    }),
    head: createHead(split.labels.length, { ...spec.featureExtraction, seed: spec.seed }),
    tracker: new ProgressTracker(spec, split.train.length, split.val.length, input.onProgress),
  };
  const pooled = run.head.pool.apply(run.cut.features) as tf.SymbolicTensor;
  const extractor = tf.model({
    inputs: base.inputs,
    outputs: spec.fineTuning.enabled ? [pooled, run.cut.boundary!] : [pooled],
  });
  const skipped: TrainingReport['skipped'] = [];
  const owned: tf.Tensor[] = [];
  let succeeded = false;
  try {
    const cache = async (examples: readonly LabelledExample[], mirror: boolean) => {
      const result = await cacheFrozenOutputs(
        extractor,
        examples,
        entry.preprocessing,
        input.loadPixels,
        {
          batchSize: EXTRACT_BATCH,
          mirror,
          signal: input.signal,
          onBatch: (done) => run.tracker.extracted(done),
          onSkip: (key, reason) => skipped.push({ key, reason }),
        },
      );
      owned.push(...result.outputs);
      const y = result.examples.map((example) => run.labels.indexOf(example.label));
      const [features, boundary = features] = result.outputs as [tf.Tensor, tf.Tensor?];
      return { pooled: { x: features, y }, boundary: { x: boundary, y } };
    };
    const mirror = spec.augmentation.horizontalFlip;
    const [[train, val], cacheSeconds] = await timed(async () => [
      await cache(split.train, mirror),
      await cache(split.val, false),
    ]);
    requireImages(run.labels, train.pooled.y, val.pooled.y, skipped);
    const headReport = await trainHead(run, train, val);
    const fine = spec.fineTuning.enabled ? await fineTune(run, train, val, headReport) : undefined;
    const classifier = tf.model({
      inputs: base.inputs,
      outputs: run.head.apply(pooled),
      name: 'graft_classifier',
    });
    const passes = train.pooled.y.length + val.pooled.y.length;
    const report: TrainingReport = {
      labels: run.labels,
      base: {
        id: entry.id,
        description: entry.description,
        license: entry.license,
        trainedOn: entry.trainedOn,
        preprocessing: entry.preprocessing,
        featureLayer,
      },
      backend: input.backend,
      spec,
      split: {
        method: split.method,
        train: train.pooled.y.length / (mirror ? 2 : 1),
        val: val.pooled.y.length,
      },
      skipped,
      featureCache: {
        images: passes,
        seconds: cacheSeconds,
        imagesPerSecond: passes / cacheSeconds,
      },
      phases: { featureExtraction: headReport, ...(fine ? { fineTuning: fine.report } : {}) },
      kept: fine?.kept ?? 'featureExtraction',
      keptReason: fine?.reason ?? 'fine-tuning was disabled',
      evaluation: (fine?.kept === 'fineTuning' ? fine.report : headReport).evaluation,
      totalSeconds: (performance.now() - started) / 1000,
    };
    if (input.writeArtifact) {
      run.tracker.exporting();
      await exportClassifier(classifier, report, input.writeArtifact);
    }
    report.totalSeconds = (performance.now() - started) / 1000;
    succeeded = true;
    run.tracker.finished();
    return { report, classifier };
  } finally {
    owned.forEach((tensor) => tensor.dispose());
    if (!succeeded) run.head.layers.forEach((layer) => layer.weights.forEach((w) => w.dispose()));
  }
}
