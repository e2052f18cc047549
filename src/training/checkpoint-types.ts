import type { Evaluation } from './evaluation-metrics.js';
import type { BlockName } from './head-search.js';
import type { EpochRecord, PhaseName, TrainingReport } from './training-types.js';

/*
 * What a run saves so that another run of the same job, on any machine, continues where it
 * stopped instead of starting again. Plain data (typed arrays and JSON): the caller decides
 * where it goes (the worker keeps it in the artifact store).
 */

/** A tensor as data. */
export interface SavedTensor {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
}

/** One split's cached frozen outputs, row-aligned. */
export interface SavedRows {
  blocks: Partial<Record<BlockName, SavedTensor>>;
  boundary?: SavedTensor;
  y: Int32Array;
  keys: string[];
  groups: string[];
  mirrored: Uint8Array;
}

/** Saved once the feature cache is built: decoding and the base's forward pass are done. */
export interface FeaturesCheckpoint {
  /** What produced these outputs (base, its weights, cut, blocks): another run uses them only if equal. */
  context: string;
  train: SavedRows;
  val: SavedRows;
  skipped: TrainingReport['skipped'];
  cacheSeconds: number;
}

/** Saved at the end of every epoch of a trained phase: everything to run the next epoch. */
export interface PhaseCheckpoint {
  /** The features' context and the head this phase trains: resumed only if equal. */
  context: string;
  phase: PhaseName;
  /** Epochs completed. */
  epoch: number;
  history: EpochRecord[];
  /** The last epoch's evaluation on the held-out rows. */
  evaluation: Evaluation;
  best: { epoch: number; evaluation: Evaluation; probabilities: Float32Array };
  /** The best epoch's trainable weights (early stopping restores them). */
  bestWeights?: SavedTensor[];
  /** The trainable weights now, in the model's order. */
  weights: SavedTensor[];
  /** The optimizer's state (Adam: its step count and both moments). */
  optimizer: { name: string; tensor: SavedTensor }[];
  trainSeconds: number;
}

/** How far an earlier run's checkpoints took this one. */
export type RestorePoint = { stage: 'features' } | { stage: PhaseName; epoch: number };

/** Where a run stands: restored from an earlier run, and how it saves its own progress. */
export interface TrainingCheckpoints {
  features?: FeaturesCheckpoint;
  phases?: Partial<Record<PhaseName, PhaseCheckpoint>>;
  /** Told what this run really continued from, once it has checked it fits. */
  restored?(point: RestorePoint): void;
  /** Must not throw: a lost checkpoint costs time on a restart, never the run. */
  saveFeatures(checkpoint: FeaturesCheckpoint): Promise<void>;
  savePhase(checkpoint: PhaseCheckpoint): Promise<void>;
}
