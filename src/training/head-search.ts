import * as tf from '@tensorflow/tfjs';
import { FEATURE_BLOCKS, type TriedSettingView } from '../contracts/training-summary.js';
import { stableHash } from './dataset-split.js';
import { trainBank, type BankModel, type BankWeights, type GroupResult } from './head-bank.js';

/*
 * Choosing the head by k-fold cross-validation on the training split's cached features: which
 * feature blocks (the base's top, an earlier depth, a raw-pixel thumbnail), L2 strength, a
 * hidden layer or not, mirrored copies or not, and how long to train (early stopping). The
 * raw-pixel baseline is chosen the same way from thumbnails alone. Nothing here sees the
 * validation split: it is the caller's, for the final report only.
 */

/** Cached feature blocks: pooled top, pooled earlier depth, grey 28×28 and colour 14×14 thumbnails. */
export type BlockName = (typeof FEATURE_BLOCKS)[number];

export interface HeadSetting {
  features: BlockName[];
  hiddenUnits: number;
  dropout: number;
  /** L2 on the kernels, per unit of mean cross-entropy. */
  l2: number;
  mirror: boolean;
  /** Adam's rate for linear heads (hidden-layer heads use a fifth). */
  learningRate: number;
  /** The most full-batch epochs; early stopping usually ends sooner. */
  maxEpochs: number;
}

/** A setting with its cross-validated scores: the report's shape (contracts/training-summary.ts). */
export type TriedSetting = TriedSettingView;

export interface SearchRows {
  /** Raw features, one row per training row (originals and their mirrored copies). */
  blocks: Partial<Record<BlockName, tf.Tensor2D>>;
  y: Int32Array;
  mirrored: Uint8Array;
  /** Fold of each row; a mirrored copy shares its original's. */
  fold: Int32Array;
  classes: number;
  /** Loss weight of each class. */
  classWeights: number[];
}

export interface SearchSpace {
  transferSets: BlockName[][];
  baselineSets: BlockName[][];
  l2: number[];
  hidden: { units: number; dropout: number }[];
  tryMirror: boolean;
  folds: number;
  learningRate: number;
  maxEpochs: number;
  /** Search off: only this transfer setting is cross-validated (for its steps and calibration). */
  fixed?: HeadSetting;
}

export interface Standardisation {
  mean: Float32Array;
  std: Float32Array;
}

export interface Chosen {
  best: TriedSetting;
  /** Out-of-fold softmax outputs on the original (unmirrored) rows, rows × classes. */
  outOfFold: Float32Array;
}

/** Full-batch steps (each one pass over the rows: an epoch) between held-out checkpoints. */
const CHECKPOINT_EVERY = 10;
/** Stop after this many checkpoints without a lower held-out loss. */
const PATIENCE = 2;

/** Adam's rate for a setting: heads with a hidden layer train at a fifth of the linear rate. */
export function stepSize(setting: HeadSetting): number {
  return setting.hiddenUnits > 0 ? setting.learningRate / 5 : setting.learningRate;
}

/**
 * Stratified folds by a hash of each example's key: the same image always lands in the same
 * fold, and examples sharing a key (copies of one image, by content hash) share a fold. Each
 * class starts at another fold, so classes with a single image do not all sit in fold 0.
 */
export function assignFolds(
  keys: readonly string[],
  labels: readonly number[],
  folds: number,
  seed: number,
): Int32Array {
  const result = new Int32Array(keys.length);
  const byClass = new Map<number, number[]>();
  labels.forEach((label, i) => byClass.set(label, [...(byClass.get(label) ?? []), i]));
  for (const [label, members] of byClass) {
    const unique = [...new Set(members.map((i) => keys[i]!))]
      .map((key) => ({ key, rank: stableHash(`fold:${seed}:${key}`) }))
      .sort((a, b) => a.rank - b.rank || (a.key < b.key ? -1 : 1));
    const foldOf = new Map(unique.map(({ key }, position) => [key, (position + label) % folds]));
    for (const i of members) result[i] = foldOf.get(keys[i]!)!;
  }
  return result;
}

export function standardisation(x: tf.Tensor2D): Standardisation {
  return tf.tidy(() => {
    const { mean, variance } = tf.moments(x, 0);
    // One scale per block (its RMS deviation), not per column: rarely active units keep their
    // small scale instead of being blown up to unit variance, and blocks weigh alike.
    const scale = variance.mean().sqrt().maximum(1e-6);
    const std = tf.onesLike(mean).mul(scale);
    return {
      mean: mean.dataSync() as Float32Array,
      std: std.dataSync() as Float32Array,
    };
  });
}

/** The standardised concatenation of some blocks. */
export function featureMatrix(
  rows: SearchRows,
  features: readonly BlockName[],
  stats: Map<BlockName, Standardisation>,
): tf.Tensor2D {
  return tf.tidy(() =>
    tf.concat(
      features.map((name) => {
        const s = stats.get(name)!;
        return rows.blocks[name]!.sub(tf.tensor1d(s.mean)).div<tf.Tensor2D>(tf.tensor1d(s.std));
      }),
      1,
    ),
  );
}

function originals(rows: SearchRows, fold: number): Int32Array {
  const picked: number[] = [];
  for (let i = 0; i < rows.y.length; i++)
    if (!rows.mirrored[i] && rows.fold[i] === fold) picked.push(i);
  return Int32Array.from(picked);
}

/** Training row weights: rows outside `heldOutFold`, mirrored copies only if asked, class-weighted. */
export function rowWeights(rows: SearchRows, heldOutFold: number, mirror: boolean): Float32Array {
  const weights = new Float32Array(rows.y.length);
  for (let i = 0; i < rows.y.length; i++) {
    if (rows.fold[i] === heldOutFold || (rows.mirrored[i] && !mirror)) continue;
    weights[i] = rows.classWeights[rows.y[i]!]!;
  }
  return weights;
}

/** Cross-validates settings that share features and hidden shape in one bank. */
async function crossValidate(
  rows: SearchRows,
  x: tf.Tensor2D,
  settings: HeadSetting[],
  folds: number,
  seed: number,
  signal?: AbortSignal,
): Promise<Chosen[]> {
  const models: BankModel[] = [];
  const groups: number[] = [];
  settings.forEach((setting, g) => {
    for (let f = 0; f < folds; f++) {
      models.push({
        rowWeights: rowWeights(rows, f, setting.mirror),
        heldOut: originals(rows, f),
        l2: setting.l2,
      });
      groups.push(g);
    }
  });
  const { hiddenUnits, dropout } = settings[0]!;
  const { groups: results } = await trainBank({
    x,
    y: rows.y,
    classes: rows.classes,
    models,
    hiddenUnits,
    dropout,
    learningRate: stepSize(settings[0]!),
    checkpointEvery: CHECKPOINT_EVERY,
    maxCheckpoints: Math.max(1, Math.ceil(settings[0]!.maxEpochs / CHECKPOINT_EVERY)),
    patience: PATIENCE,
    groups: Int32Array.from(groups),
    seed,
    signal,
  });
  return settings.map((setting, g) => {
    const result = results.get(g)!;
    return { best: tried(setting, result), outOfFold: result.outOfFold };
  });
}

function tried(setting: HeadSetting, result: GroupResult): TriedSetting {
  return {
    ...setting,
    cvAccuracy: result.heldOutAccuracy,
    cvLoss: result.heldOutLoss,
    iterations: result.iterations,
  };
}

/**
 * Lower cross-validated loss wins. Log-loss is a proper scoring rule and far less noisy than
 * accuracy on a few hundred images, where one image moves accuracy by half a point.
 */
function better(a: TriedSetting, b: TriedSetting): boolean {
  return a.cvLoss < b.cvLoss || (a.cvLoss === b.cvLoss && a.cvAccuracy > b.cvAccuracy);
}

function bestOf(candidates: Chosen[]): Chosen {
  return candidates.reduce((a, b) => (better(b.best, a.best) ? b : a));
}

/**
 * Cross-validates settings (sharing features and head shape) and records them. Settings
 * without mirrored copies train on the originals alone: half the rows, half the cost.
 */
function evaluator(
  rows: SearchRows,
  stats: Map<BlockName, Standardisation>,
  folds: number,
  seed: number,
  record: (settings: TriedSetting[]) => void,
  signal?: AbortSignal,
) {
  let plain: { rows: SearchRows; index: number[] } | undefined;
  const run = async (settings: HeadSetting[]): Promise<Chosen[]> => {
    const mirrored = settings[0]!.mirror && rows.mirrored.some((m) => m === 1);
    if (!mirrored) plain ??= originalsOnly(rows);
    const view = mirrored ? rows : plain!.rows;
    const x = featureMatrix(view, settings[0]!.features, stats);
    try {
      const results = await crossValidate(view, x, settings, folds, seed, signal);
      record(results.map((r) => r.best));
      return mirrored ? results : results.map((r) => expand(r, plain!.index, rows));
    } finally {
      x.dispose();
    }
  };
  const dispose = () => {
    if (plain) tf.dispose(Object.values(plain.rows.blocks));
  };
  return { run, dispose };
}

async function searchFamily(
  sets: BlockName[][],
  space: SearchSpace,
  options: { mirror: boolean; tryHidden: boolean; tryMirror: boolean },
  run: (settings: HeadSetting[]) => Promise<Chosen[]>,
): Promise<Chosen> {
  // When mirroring is itself searched, the other choices are made without it (cheaper), then
  // it is tried.
  const startMirror = options.tryMirror ? false : options.mirror;
  const linear = (features: BlockName[]) =>
    space.l2.map((l2) => ({
      features,
      hiddenUnits: 0,
      dropout: 0,
      l2,
      mirror: startMirror,
      learningRate: space.learningRate,
      maxEpochs: space.maxEpochs,
    }));
  let best = bestOf((await sequential(sets, (f) => run(linear(f)))).flat());
  if (options.tryHidden && space.hidden.length > 0) {
    const hidden = space.hidden.map(({ units, dropout }) => ({
      ...best.best,
      hiddenUnits: units,
      dropout,
    }));
    best = bestOf([best, ...(await sequential(hidden, (s) => run([s]))).flat()]);
  }
  if (options.tryMirror)
    best = bestOf([best, ...(await run([{ ...best.best, mirror: !best.best.mirror }]))]);
  return best;
}

/** The same rows without their mirrored copies, and where each came from. */
function originalsOnly(rows: SearchRows): { rows: SearchRows; index: number[] } {
  const index = [...rows.y.keys()].filter((i) => !rows.mirrored[i]);
  const idx = tf.tensor1d(index, 'int32');
  const blocks = Object.fromEntries(
    Object.entries(rows.blocks).map(([name, block]) => [name, tf.gather(block, idx)]),
  ) as SearchRows['blocks'];
  idx.dispose();
  return {
    rows: {
      ...rows,
      blocks,
      y: Int32Array.from(index.map((i) => rows.y[i]!)),
      mirrored: new Uint8Array(index.length),
      fold: Int32Array.from(index.map((i) => rows.fold[i]!)),
    },
    index,
  };
}

/** Out-of-fold outputs of a view, placed back on the full rows. */
function expand(chosen: Chosen, index: number[], rows: SearchRows): Chosen {
  const c = rows.classes;
  const outOfFold = new Float32Array(rows.y.length * c);
  index.forEach((full, i) =>
    outOfFold.set(chosen.outOfFold.subarray(i * c, (i + 1) * c), full * c),
  );
  return { ...chosen, outOfFold };
}

async function sequential<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await work(item));
  return results;
}

export interface SearchOutcome {
  transfer: Chosen;
  baseline?: Chosen;
  tried: TriedSetting[];
  stats: Map<BlockName, Standardisation>;
  seconds: number;
}

/** Runs the whole search: transfer heads, then the raw-pixel baseline. */
export async function searchHeads(
  rows: SearchRows,
  space: SearchSpace,
  seed: number,
  signal?: AbortSignal,
  onProgress?: (done: number, total: number) => void,
): Promise<SearchOutcome> {
  const started = performance.now();
  const stats = new Map<BlockName, Standardisation>();
  for (const [name, block] of Object.entries(rows.blocks) as [BlockName, tf.Tensor2D][])
    stats.set(name, standardisation(block));
  const tried: TriedSetting[] = [];
  const hasMirrors = rows.mirrored.some((m) => m === 1);
  const tryMirror = hasMirrors && space.tryMirror;
  const expected =
    (space.fixed
      ? 1
      : space.transferSets.length * space.l2.length + space.hidden.length + (tryMirror ? 1 : 0)) +
    space.baselineSets.length * space.l2.length;
  const record = (settings: TriedSetting[]) => {
    tried.push(...settings);
    onProgress?.(tried.length, expected);
  };
  const { run, dispose } = evaluator(rows, stats, space.folds, seed, record, signal);
  try {
    const transfer = space.fixed
      ? (await run([space.fixed]))[0]!
      : await searchFamily(
          space.transferSets,
          space,
          { mirror: hasMirrors, tryHidden: true, tryMirror },
          run,
        );
    const baseline =
      space.baselineSets.length > 0
        ? await searchFamily(
            space.baselineSets,
            space,
            { mirror: false, tryHidden: false, tryMirror: false },
            run,
          )
        : undefined;
    return {
      transfer,
      ...(baseline ? { baseline } : {}),
      tried,
      stats,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    dispose();
  }
}

/**
 * Trains a chosen setting for its cross-validated number of steps on all training rows, and
 * (when `alsoWithout` is given) again without that fold, whose rows it then predicts.
 */
export async function fitSetting(
  rows: SearchRows,
  setting: TriedSetting,
  stats: Map<BlockName, Standardisation>,
  seed: number,
  alsoWithout?: number,
  signal?: AbortSignal,
): Promise<{ weights: BankWeights; heldOut?: Float32Array }> {
  const x = featureMatrix(rows, setting.features, stats);
  const models: BankModel[] = [
    {
      rowWeights: rowWeights(rows, -1, setting.mirror),
      heldOut: new Int32Array(0),
      l2: setting.l2,
    },
  ];
  if (alsoWithout !== undefined)
    models.push({
      rowWeights: rowWeights(rows, alsoWithout, setting.mirror),
      heldOut: originals(rows, alsoWithout),
      l2: setting.l2,
    });
  try {
    const { groups, weights } = await trainBank(
      {
        x,
        y: rows.y,
        classes: rows.classes,
        models,
        hiddenUnits: setting.hiddenUnits,
        dropout: setting.dropout,
        learningRate: stepSize(setting),
        checkpointEvery: CHECKPOINT_EVERY,
        maxCheckpoints: Math.max(1, Math.round(setting.iterations / CHECKPOINT_EVERY)),
        patience: Number.POSITIVE_INFINITY,
        groups: Int32Array.from(models.map((_, i) => i)),
        seed,
        signal,
      },
      true,
    );
    return {
      weights: weights!,
      ...(alsoWithout !== undefined ? { heldOut: groups.get(1)!.outOfFold } : {}),
    };
  } finally {
    x.dispose();
  }
}
