import type * as tf from '@tensorflow/tfjs';
import type { TrainingSpec } from '../contracts/training-spec.js';
import type { CalibrationView } from '../contracts/training-summary.js';
import type { BaseModelEntry } from './base-model-catalog.js';
import type { TrainingCheckpoints } from './checkpoint-types.js';
import type { LabelledExample } from './dataset-split.js';
import type { Evaluation } from './evaluation-metrics.js';
import type { TriedSetting } from './head-search.js';

export type PhaseName = 'featureExtraction' | 'fineTuning';
/** What the job ships: the head alone, the fine-tuned base, or the raw-pixel baseline. */
export type KeptModel = PhaseName | 'baseline';
export type Stage = 'features' | PhaseName | 'export';

export interface TrainingProgress {
  stage: Stage;
  /** 1-based; absent while caching features. */
  epoch?: number;
  epochs?: number;
  batch: number;
  batches: number;
  loss?: number;
  accuracy?: number;
  /** Validation metrics, on the last batch of an epoch. */
  val?: { loss: number; accuracy: number };
  imagesPerSecond: number;
  /** Whole job, 0..1, and seconds left for the whole job (estimated). */
  progress: number;
  etaSeconds: number;
}

export interface EpochRecord {
  phase: PhaseName;
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  seconds: number;
}

export interface PhaseReport {
  phase: PhaseName;
  epochs: number;
  learningRate: number;
  batchSize: number;
  seconds: number;
  imagesPerSecond: number;
  history: EpochRecord[];
  evaluation: Evaluation;
  /** Fine-tuning only: where the base was unfrozen and how many layers were trained. */
  unfreezeFrom?: string;
  trainableLayers?: number;
  /** Early stopping: the epoch (phase 1: full-batch steps) whose weights were kept. */
  bestEpoch: number;
  stoppedEarly: boolean;
}

export interface SearchReport {
  enabled: boolean;
  folds: number;
  seconds: number;
  /** The transfer head chosen by cross-validation on the training split. */
  chosen: TriedSetting;
  /** Every setting tried, with its cross-validated accuracy and loss. */
  tried: TriedSetting[];
}

export interface BaselineReport {
  /** The raw-pixel setting chosen by the same cross-validation. */
  chosen: TriedSetting;
  /** On the validation split (reported, never used for a choice). */
  evaluation: Evaluation;
  /** Validation accuracy of the transfer model minus the baseline's. */
  transferGain: number;
  shipped: boolean;
}

/** Softmax temperature fitted on held-out training predictions (never the validation split). */
export type CalibrationReport = CalibrationView;

export interface TrainingReport {
  labels: string[];
  base: Pick<BaseModelEntry, 'id' | 'description' | 'license' | 'trainedOn' | 'preprocessing'> & {
    featureLayer: string;
  };
  backend: string;
  spec: TrainingSpec;
  split: {
    method: 'given' | 'stratified';
    train: number;
    val: number;
    /** Validation images identical to a training image, left out (leakage). */
    droppedFromValidation: number;
  };
  skipped: { key: string; reason: string }[];
  featureCache: {
    images: number;
    seconds: number;
    imagesPerSecond: number;
    /** What ran the frozen part: `onnxruntime (…)`, `wasm (…)`, `tfjs`, or `checkpoint` (resumed). */
    engine?: string;
    /** Images whose outputs the tenant's embedding cache already held. */
    fromEmbeddingCache?: number;
  };
  phases: { featureExtraction: PhaseReport; fineTuning?: PhaseReport };
  search: SearchReport;
  baseline?: BaselineReport;
  classWeights: Record<string, number>;
  calibration: CalibrationReport;
  kept: KeptModel;
  keptReason: string;
  /** The kept phase's validation evaluation. */
  evaluation: Evaluation;
  totalSeconds: number;
}

/**
 * Runs the frozen part of the base (the extractor) outside tfjs: ONNX Runtime, or tfjs on
 * worker threads. The core hands it preprocessed input and gets plain arrays back.
 */
export interface FrozenPartRunner {
  /** What runs it, for the report: e.g. `onnxruntime (2 threads)`, `wasm (2 worker threads)`. */
  readonly engine: string;
  /**
   * Runs `batch` images, NHWC float32 already preprocessed for the base (pixelsToFloats);
   * returns one array per extractor output, in the extractor's output order, rows in input
   * order (rank-4 outputs NHWC).
   */
  run(input: Float32Array, batch: number): Promise<Float32Array[]>;
  dispose(): Promise<void>;
}

/**
 * Frozen outputs of single images kept across jobs (the tenant's embedding cache). `context`
 * names what computed them (preprocessing, cut, blocks; the caller adds the base's digest);
 * each entry is one image, upright or mirrored, one array per extractor output.
 */
export interface EmbeddingCache {
  get(
    context: string,
    requests: readonly { contentHash: string; mirrored: boolean }[],
  ): Promise<(Float32Array[] | undefined)[]>;
  put(
    context: string,
    entries: readonly { contentHash: string; mirrored: boolean; outputs: Float32Array[] }[],
  ): Promise<void>;
}

export interface TransferTrainingInput {
  /** The pretrained base, loaded; the core freezes its BN layers and cuts it. */
  base: tf.LayersModel;
  entry: BaseModelEntry;
  examples: readonly LabelledExample[];
  /** Decoded RGB pixels of one example, preprocessing.size² × 3 bytes. */
  loadPixels: (key: string) => Promise<Uint8Array>;
  spec: TrainingSpec;
  /** Name of the tfjs backend in use, for the report. */
  backend: string;
  onProgress?: (progress: TrainingProgress) => void;
  signal?: AbortSignal;
  /** Receives model.json, weights.bin and metadata.json. */
  writeArtifact?: (name: string, data: Uint8Array | string) => Promise<void>;
  /** An earlier run's saved state to continue from, and where this run saves its own. */
  checkpoints?: TrainingCheckpoints;
  /**
   * Makes a runner for the frozen part (the extractor: input → cached outputs), or undefined
   * to run it with tfjs in this process. Called once per run.
   */
  frozenRunner?: (extractor: tf.LayersModel) => Promise<FrozenPartRunner | undefined>;
  /** Features of images seen by earlier jobs (of this tenant, on this base). */
  embeddings?: EmbeddingCache;
}

export interface TransferTrainingResult {
  report: TrainingReport;
  /** Base + head, ready to predict; dispose with disposeModelWeights(classifier, base). */
  classifier: tf.LayersModel;
}

/**
 * Thrown by `loadPixels` when an image could not be read for a reason other than the image
 * itself (its store is failing): the run stops instead of skipping the image.
 */
export class StoreUnreadable extends Error {
  override name = 'StoreUnreadable';
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
  }
}
