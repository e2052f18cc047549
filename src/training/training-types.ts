import type * as tf from '@tensorflow/tfjs';
import type { TrainingSpec } from '../contracts/training-spec.js';
import type { BaseModelEntry } from './base-model-catalog.js';
import type { LabelledExample } from './dataset-split.js';
import type { Evaluation } from './evaluation-metrics.js';

export type PhaseName = 'featureExtraction' | 'fineTuning';
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
}

export interface TrainingReport {
  labels: string[];
  base: Pick<BaseModelEntry, 'id' | 'description' | 'license' | 'trainedOn' | 'preprocessing'> & {
    featureLayer: string;
  };
  backend: string;
  spec: TrainingSpec;
  split: { method: 'given' | 'stratified'; train: number; val: number };
  skipped: { key: string; reason: string }[];
  featureCache: { images: number; seconds: number; imagesPerSecond: number };
  phases: { featureExtraction: PhaseReport; fineTuning?: PhaseReport };
  kept: PhaseName;
  keptReason: string;
  /** The kept phase's validation evaluation. */
  evaluation: Evaluation;
  totalSeconds: number;
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
}

export interface TransferTrainingResult {
  report: TrainingReport;
  /** Base + head, ready to predict; dispose with disposeModelWeights(classifier, base). */
  classifier: tf.LayersModel;
}
