import * as tf from '@tensorflow/tfjs';
import { disposeSnapshot, restoreWeights, snapshotWeights } from './weight-snapshot.js';
import { expectedCalibrationError, fitTemperature, withTemperature } from './calibration.js';
import { evaluatePredictions, type Evaluation } from './evaluation-metrics.js';
import { applyTemperature, buildHead, joinBlocks, type BuiltHead } from './feature-blocks.js';
import {
  assignFolds,
  fitSetting,
  stepSize,
  searchHeads,
  type BlockName,
  type SearchRows,
  type SearchSpace,
} from './head-search.js';
import { rebuildTop, type CutPlan } from './model-surgery.js';
import { predictAll, trainPhase } from './phase-trainer.js';
import type { ProgressTracker } from './progress-tracker.js';
import type {
  KeptModel,
  PhaseName,
  PhaseReport,
  TrainingReport,
  TransferTrainingInput,
} from './training-types.js';

type SymbolicTensor = tf.SymbolicTensor;

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

/** Cached outputs of one split, row-aligned. */
export interface CachedRows {
  blocks: Partial<Record<BlockName, tf.Tensor2D>>;
  boundary?: tf.Tensor;
  y: Int32Array;
  keys: string[];
  /** What identifies an image for folds: its content hash when known, else its key. */
  groups: string[];
  mirrored: Uint8Array;
}

export interface HeadsInput {
  input: TransferTrainingInput;
  labels: string[];
  base: tf.LayersModel;
  cut: CutPlan & { unfreezeFrom: string };
  pool: tf.layers.Layer;
  blocks: Partial<Record<BlockName, SymbolicTensor>>;
  train: CachedRows;
  val: CachedRows;
  tracker: ProgressTracker;
  /** What the cached features came from (checkpoints are checked against it). */
  checkpointContext: string;
}

type ReportPart = Pick<
  TrainingReport,
  | 'phases'
  | 'search'
  | 'baseline'
  | 'classWeights'
  | 'calibration'
  | 'kept'
  | 'keptReason'
  | 'evaluation'
>;

const L2_GRID_C = [0.01, 0.1, 1];

function classWeightsOf(input: HeadsInput): number[] {
  const { spec } = input.input;
  const counts = input.labels.map(() => 0);
  input.train.y.forEach((c, i) => {
    if (!input.train.mirrored[i]) counts[c]!++;
  });
  const total = counts.reduce((a, b) => a + b, 0);
  if (spec.classWeights === 'none') return counts.map(() => 1);
  if (spec.classWeights === 'auto')
    return counts.map((n) => (n > 0 ? total / (counts.length * n) : 1));
  const given = spec.classWeights;
  const unknown = Object.keys(given).filter((label) => !input.labels.includes(label));
  if (unknown.length > 0)
    throw new Error(
      `classWeights names ${unknown.map((l) => `'${l}'`).join(', ')}, not a class of this dataset (classes: ${input.labels.join(', ')})`,
    );
  return input.labels.map((label) => given[label] ?? 1);
}

function searchRows(input: HeadsInput, folds: number, classWeights: number[]): SearchRows {
  const { train } = input;
  const originals = [...train.y.keys()].filter((i) => !train.mirrored[i]);
  const byOriginal = assignFolds(
    originals.map((i) => train.groups[i]!),
    originals.map((i) => train.y[i]!),
    folds,
    input.input.spec.seed,
  );
  const foldOfKey = new Map(originals.map((i, j) => [train.keys[i]!, byOriginal[j]!]));
  return {
    blocks: train.blocks,
    y: train.y,
    mirrored: train.mirrored,
    fold: Int32Array.from(train.keys.map((key) => foldOfKey.get(key)!)),
    classes: input.labels.length,
    classWeights,
  };
}

function searchSpace(input: HeadsInput, originalCount: number): SearchSpace {
  const { spec } = input.input;
  const has = (name: BlockName) => input.blocks[name] !== undefined;
  const hidden = spec.featureExtraction.hiddenUnits;
  // L2 per unit of mean cross-entropy matching C (inverse strength) in sklearn's convention.
  const l2 = L2_GRID_C.map((c) => 1 / (2 * c * Math.max(originalCount, 1)));
  const mirror = spec.augmentation.horizontalFlip !== false;
  return {
    transferSets: [
      ['top'],
      ['top', 'gray'],
      ...(has('mid') ? [['top', 'mid', 'gray']] : []),
    ] as BlockName[][],
    baselineSets: spec.baseline.enabled ? [['gray'], ['colour']] : [],
    l2,
    hidden: spec.search.hiddenUnits.map((units) => ({
      units,
      dropout: spec.featureExtraction.dropout,
    })),
    tryMirror: spec.augmentation.horizontalFlip === 'auto',
    folds: spec.search.folds,
    learningRate: spec.featureExtraction.learningRate,
    maxEpochs: spec.featureExtraction.epochs,
    ...(spec.search.enabled
      ? {}
      : {
          fixed: {
            features: ['top'] as BlockName[],
            hiddenUnits: hidden,
            dropout: spec.featureExtraction.dropout,
            l2: l2[1]!,
            mirror,
            learningRate: spec.featureExtraction.learningRate,
            maxEpochs: spec.featureExtraction.epochs,
          },
        }),
  };
}

/** Indices of the rows that `keep` accepts. */
function rowsOf(rows: SearchRows, keep: (i: number) => boolean): number[] {
  return [...rows.y.keys()].filter(keep);
}

function pick(probabilities: Float32Array, rows: number[], classes: number): Float32Array {
  const out = new Float32Array(rows.length * classes);
  rows.forEach((r, i) =>
    out.set(probabilities.subarray(r * classes, (r + 1) * classes), i * classes),
  );
  return out;
}

function gatherRows(tensor: tf.Tensor, rows: number[]): tf.Tensor {
  return tf.tidy(() => tf.gather(tensor, tf.tensor1d(rows, 'int32')));
}

function concatBlocks(rows: CachedRows, names: readonly BlockName[]): tf.Tensor2D {
  return names.length === 1
    ? rows.blocks[names[0]!]!.clone()
    : tf.concat(
        names.map((n) => rows.blocks[n]!),
        1,
      );
}

/** Softmax outputs of a head on cached (raw) feature rows. */
function headOnRows(head: BuiltHead, x: tf.Tensor2D): Float32Array {
  const input = tf.input({ shape: [x.shape[1]] });
  const model = tf.model({ inputs: input, outputs: head.apply(input) });
  return predictAll(model, x);
}

/**
 * Phase 1 (the searched head), phase 2 (fine-tuning, judged on a held-out fold of the training
 * split), the baseline, the choice between them, and calibration. Returns the shipped model
 * (base inputs → probabilities) and its part of the report.
 */
export async function searchAndFit(
  h: HeadsInput,
): Promise<{ classifier: tf.LayersModel; report: ReportPart }> {
  const { input, labels, train, val } = h;
  const { spec } = input;
  const classes = labels.length;
  const weights = classWeightsOf(h);
  const rows = searchRows(h, spec.search.folds, weights);
  const originals = rowsOf(rows, (i) => !rows.mirrored[i]);
  const fold0 = rowsOf(rows, (i) => !rows.mirrored[i] && rows.fold[i] === 0);
  const y = (list: number[]) => list.map((i) => rows.y[i]!);
  const created: tf.layers.Layer[] = [];
  const valY = [...val.y];
  let shipped: tf.LayersModel | undefined;
  const snapshot = spec.fineTuning.enabled
    ? snapshotWeights(
        input.base.layers.filter(
          (l) => h.cut.topLayers.includes(l.name) && l.getClassName() !== 'BatchNormalization',
        ),
      )
    : undefined;
  try {
    const search = await searchHeads(
      rows,
      searchSpace(h, originals.length),
      spec.seed,
      input.signal,
      (done, total) => h.tracker.searched(done, total),
    );
    const chosen = search.transfer.best;
    // Fine-tuning learns from the other folds and is judged on fold 0: it needs both, and every
    // class among what it learns from, or it would ship a model blind to a class.
    const fitRows = rowsOf(rows, (i) => rows.fold[i] !== 0 && (chosen.mirror || !rows.mirrored[i]));
    const unseen = labels.filter((_, c) => !fitRows.some((i) => rows.y[i] === c));
    const canFineTune = fold0.length > 0 && unseen.length === 0;
    const fineTune = spec.fineTuning.enabled && canFineTune;
    const fitStarted = performance.now();
    const fit = await fitSetting(
      rows,
      chosen,
      search.stats,
      spec.seed,
      fineTune ? 0 : undefined,
      input.signal,
    );
    const head = buildHead(chosen, fit.weights, 0, search.stats, classes);
    created.push(...head.layers);
    /** Base input → the blocks a head reads → that head: a model that can ship. */
    const classifierOf = (built: BuiltHead, names: readonly BlockName[], joinName: string) =>
      tf.model({
        inputs: input.base.inputs,
        outputs: built.apply(
          joinBlocks(
            names.map((n) => h.blocks[n]!),
            joinName,
          ),
        ),
        name: 'graft_classifier',
      });
    const headModel = classifierOf(head, chosen.features, 'graft_features');
    const valFeatures = concatBlocks(val, chosen.features);
    const headVal = headOnRows(head, valFeatures);
    valFeatures.dispose();
    const headSeconds = search.seconds + (performance.now() - fitStarted) / 1000;
    const phase1: PhaseReport = {
      phase: 'featureExtraction',
      epochs: chosen.iterations,
      learningRate: stepSize(chosen),
      batchSize: originals.length,
      seconds: headSeconds,
      imagesPerSecond: (originals.length * chosen.iterations) / Math.max(headSeconds, 1e-9),
      history: [],
      evaluation: evaluatePredictions(headVal, valY, labels),
      bestEpoch: chosen.iterations,
      stoppedEarly: chosen.iterations < chosen.maxEpochs,
    };
    h.tracker.trained('featureExtraction', 1, {
      epoch: 1,
      batch: 1,
      batches: 1,
      loss: chosen.cvLoss,
      accuracy: chosen.cvAccuracy,
      images: originals.length,
      val: phase1.evaluation,
    });

    // Candidates: each with its validation outputs and held-out training outputs for calibration.
    interface Candidate {
      kept: KeptModel;
      model: tf.LayersModel;
      head: BuiltHead;
      valOutputs: Float32Array;
      heldOut: { probabilities: Float32Array; y: number[]; on: 'out-of-fold' | 'held-out fold' };
    }
    let transfer: Candidate = {
      kept: 'featureExtraction',
      model: headModel,
      head,
      valOutputs: headVal,
      heldOut: {
        probabilities: pick(search.transfer.outOfFold, originals, classes),
        y: y(originals),
        on: 'out-of-fold',
      },
    };
    let keptReason = spec.fineTuning.enabled ? '' : 'fine-tuning was disabled';
    let phase2: PhaseReport | undefined;
    /** The fine-tuned model's evaluation on fold 0, when it is the one kept. */
    let fineTunedFold0: Evaluation | undefined;

    if (spec.fineTuning.enabled && !canFineTune)
      keptReason = `fine-tuning was skipped: with a fold of the training split held out, no image of ${unseen.map((l) => `'${l}'`).join(', ') || 'any class'} is left to fine-tune on (add images)`;
    if (fineTune && snapshot) {
      const trainable = [...snapshot.keys()];
      const foldHead = buildHead(chosen, fit.weights, 1, search.stats, classes, 'graft_ft');
      created.push(...foldHead.layers);
      const extras = chosen.features.filter((n) => n !== 'top');
      trainable.forEach((l) => (l.trainable = true));
      try {
        const top = rebuildTop(h.cut.boundary!, h.cut.features);
        const extrasInput =
          extras.length > 0
            ? tf.input({
                shape: [extras.reduce((n, name) => n + h.blocks[name]!.shape[1]!, 0)],
                name: 'graft_extras',
              })
            : undefined;
        const pooled = h.pool.apply(top.output) as SymbolicTensor;
        const ftModel = tf.model({
          inputs: [top.input, ...(extrasInput ? [extrasInput] : [])],
          outputs: foldHead.apply(
            joinBlocks([pooled, ...(extrasInput ? [extrasInput] : [])], 'graft_ft_features'),
          ),
        });
        const inputsFor = (cached: CachedRows, list: number[]) => {
          const b = gatherRows(cached.boundary!, list);
          if (extras.length === 0) return [b];
          const e = concatBlocks(cached, extras);
          const picked = gatherRows(e, list);
          e.dispose();
          return [b, picked];
        };
        const trainX = inputsFor(train, fitRows);
        const heldX = inputsFor(train, fold0);
        const valX = inputsFor(val, [...val.y.keys()]);
        try {
          const settings = spec.fineTuning;
          const started = performance.now();
          const outcome = await trainPhase({
            phase: 'fineTuning',
            model: ftModel,
            train: { x: trainX, y: y(fitRows) },
            val: { x: heldX, y: y(fold0) },
            labels,
            epochs: settings.epochs,
            batchSize: settings.batchSize,
            learningRate: settings.learningRate,
            seed: spec.seed + 1,
            classWeights: weights,
            patience: settings.patience,
            signal: input.signal,
            onBatch: (info) => h.tracker.trained('fineTuning', settings.epochs, info),
            ...(input.checkpoints
              ? {
                  resume: input.checkpoints.phases?.fineTuning,
                  // The head it starts from, the layers it trains: another choice, another phase.
                  checkpointContext: JSON.stringify([
                    h.checkpointContext,
                    chosen,
                    h.cut.unfreezeFrom,
                    trainable.length,
                  ]),
                  onResumed: (epoch) =>
                    input.checkpoints!.restored?.({ stage: 'fineTuning', epoch }),
                  onEpochEnd: (checkpoint) => input.checkpoints!.savePhase(checkpoint),
                }
              : {}),
          });
          const seconds = (performance.now() - started) / 1000;
          const ftVal = predictAll(ftModel, valX);
          phase2 = {
            phase: 'fineTuning',
            epochs: settings.epochs,
            learningRate: settings.learningRate,
            batchSize: settings.batchSize,
            seconds,
            imagesPerSecond: outcome.imagesTrained / Math.max(outcome.trainSeconds, 1e-9),
            history: outcome.history,
            evaluation: evaluatePredictions(ftVal, valY, labels),
            unfreezeFrom: h.cut.unfreezeFrom,
            trainableLayers: trainable.length,
            bestEpoch: outcome.bestEpoch,
            stoppedEarly: outcome.stoppedEarly,
          };
          const headFold0 = evaluatePredictions(
            pick(fit.heldOut!, fold0, classes),
            y(fold0),
            labels,
          );
          const decision = choosePhase(headFold0, outcome.evaluation);
          keptReason = `${decision.reason} (on a held-out fold of the training split, ${fold0.length} images)`;
          if (decision.kept === 'fineTuning') {
            fineTunedFold0 = outcome.evaluation;
            transfer = {
              kept: 'fineTuning',
              model: classifierOf(foldHead, chosen.features, 'graft_ft_join'),
              head: foldHead,
              valOutputs: ftVal,
              heldOut: { probabilities: outcome.probabilities, y: y(fold0), on: 'held-out fold' },
            };
          } else {
            restoreWeights(snapshot);
          }
        } finally {
          tf.dispose([...trainX, ...heldX, ...valX]);
        }
      } finally {
        trainable.forEach((l) => (l.trainable = false));
      }
    }

    // The raw-pixel baseline, and whether it ships instead.
    let baselineReport: ReportPart['baseline'];
    let final = transfer;
    if (search.baseline) {
      const b = search.baseline.best;
      const bFit = await fitSetting(rows, b, search.stats, spec.seed + 7, undefined, input.signal);
      const bHead = buildHead(b, bFit.weights, 0, search.stats, classes, 'graft_baseline');
      created.push(...bHead.layers);
      const bValX = concatBlocks(val, b.features);
      const bVal = headOnRows(bHead, bValX);
      bValX.dispose();
      const bEvaluation = evaluatePredictions(bVal, valY, labels);
      const bOutOfFold = pick(search.baseline.outOfFold, originals, classes);
      // Not worse is enough: the simpler model wins ties (no base to run, a smaller model).
      // A fine-tuned model was judged on fold 0 alone, so the baseline is too.
      const wins =
        b.cvLoss <= chosen.cvLoss &&
        (!fineTunedFold0 ||
          evaluatePredictions(pick(search.baseline.outOfFold, fold0, classes), y(fold0), labels)
            .loss <= fineTunedFold0.loss);
      const ships = wins && spec.baseline.allowShip;
      baselineReport = {
        chosen: b,
        evaluation: bEvaluation,
        transferGain:
          evaluatePredictions(transfer.valOutputs, valY, labels).accuracy - bEvaluation.accuracy,
        shipped: ships,
      };
      if (ships) {
        keptReason =
          `the raw-pixel baseline cross-validated at ${b.cvAccuracy.toFixed(4)} accuracy (loss ${b.cvLoss.toFixed(4)}), ` +
          `the transfer model no better (${chosen.cvAccuracy.toFixed(4)}, loss ${chosen.cvLoss.toFixed(4)}): ` +
          `the base's features do not fit this data, so the baseline ships`;
        final = {
          kept: 'baseline',
          model: classifierOf(bHead, b.features, 'graft_baseline_features'),
          head: bHead,
          valOutputs: bVal,
          heldOut: { probabilities: bOutOfFold, y: y(originals), on: 'out-of-fold' },
        };
      } else if (wins) {
        keptReason +=
          '; the raw-pixel baseline cross-validated better, but the spec forbids shipping it';
      }
    }
    if (final.kept === 'featureExtraction' && keptReason === '')
      keptReason = 'fine-tuning was not kept';

    // Calibration on held-out training predictions; the validation split only measures it.
    const temperature = fitTemperature(final.heldOut.probabilities, final.heldOut.y, classes);
    const calibratedVal = withTemperature(final.valOutputs, classes, temperature);
    applyTemperature(final.head, temperature);
    shipped = final.model;
    const evaluation: Evaluation = evaluatePredictions(calibratedVal, valY, labels);
    return {
      classifier: shipped,
      report: {
        phases: { featureExtraction: phase1, ...(phase2 ? { fineTuning: phase2 } : {}) },
        search: {
          enabled: spec.search.enabled,
          folds: spec.search.folds,
          seconds: search.seconds,
          chosen,
          tried: search.tried,
        },
        ...(baselineReport ? { baseline: baselineReport } : {}),
        classWeights: Object.fromEntries(labels.map((label, c) => [label, weights[c]!])),
        calibration: {
          temperature,
          fittedOn: final.heldOut.on,
          eceBefore: expectedCalibrationError(final.valOutputs, valY, classes),
          eceAfter: expectedCalibrationError(calibratedVal, valY, classes),
        },
        kept: final.kept,
        keptReason,
        evaluation,
      },
    };
  } finally {
    if (snapshot) disposeSnapshot(snapshot);
    // Free every head that does not ship (the shipped one is the caller's).
    const keep = new Set(shipped?.layers ?? []);
    for (const layer of created) if (!keep.has(layer)) layer.weights.forEach((w) => w.dispose());
  }
}
