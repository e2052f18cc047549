import type { TrainingSpec } from '../contracts/training-spec.js';
import type { BatchResult } from './phase-trainer.js';
import type { PhaseName, Stage, TrainingProgress } from './training-types.js';

/*
 * Whole-job progress and ETA. Work is counted in image passes weighted by their cost relative
 * to one frozen forward pass through the base (measured on wasm with MobileNetV2: a head step
 * on cached features costs ~1/200 of it, a fine-tuning step of the top block ~1/5). The ETA
 * extrapolates the job's elapsed time over that progress.
 */
const COST: Record<Stage, number> = {
  features: 1,
  featureExtraction: 0.005,
  fineTuning: 0.2,
  export: 0,
};
const STAGES = Object.keys(COST) as Stage[];

export class ProgressTracker {
  private readonly total: Record<Stage, number>;
  private readonly completed: Record<Stage, number> = {
    features: 0,
    featureExtraction: 0,
    fineTuning: 0,
    export: 0,
  };
  private readonly started = performance.now();
  private stageStart = performance.now();
  private stage: Stage = 'features';
  private reported = 0;

  constructor(
    spec: TrainingSpec,
    trainCount: number,
    valCount: number,
    private readonly emit?: (progress: TrainingProgress) => void,
  ) {
    const images = trainCount + valCount;
    this.total = {
      features: images,
      featureExtraction: spec.featureExtraction.epochs * images,
      fineTuning: (spec.fineTuning.enabled ? spec.fineTuning.epochs : 0) * images,
      export: 0,
    };
  }

  private enter(stage: Stage): void {
    if (this.stage === stage) return;
    this.stage = stage;
    this.stageStart = performance.now();
  }

  private report(
    fields: Omit<TrainingProgress, 'stage' | 'progress' | 'etaSeconds' | 'imagesPerSecond'>,
  ): void {
    const weighted = (counts: Record<Stage, number>) =>
      STAGES.reduce((sum, stage) => sum + counts[stage] * COST[stage], 0);
    const totalWork = weighted(this.total);
    const fraction = totalWork === 0 ? 1 : Math.min(1, weighted(this.completed) / totalWork);
    this.reported = Math.max(this.reported, fraction);
    const elapsed = (performance.now() - this.started) / 1000;
    const stageElapsed = (performance.now() - this.stageStart) / 1000;
    this.emit?.({
      stage: this.stage,
      ...fields,
      imagesPerSecond: this.completed[this.stage] / Math.max(stageElapsed, 1e-3),
      progress: this.reported,
      etaSeconds: this.reported > 0 ? (elapsed * (1 - this.reported)) / this.reported : 0,
    });
  }

  extracted(images: number): void {
    this.enter('features');
    this.completed.features += images;
    this.report({ batch: this.completed.features, batches: this.total.features });
  }

  /** The head search: `done` of `total` settings cross-validated. */
  searched(done: number, total: number): void {
    this.enter('featureExtraction');
    this.completed.featureExtraction = (this.total.featureExtraction * done) / Math.max(total, 1);
    this.report({ epoch: done, epochs: total, batch: done, batches: total });
  }

  trained(phase: PhaseName, epochs: number, info: BatchResult): void {
    this.enter(phase);
    const perEpoch = this.total[phase] / epochs;
    const withinEpoch = info.val ? 1 : (info.batch / info.batches) * 0.9;
    this.completed[phase] = Math.min(this.total[phase], (info.epoch - 1 + withinEpoch) * perEpoch);
    this.report({
      epoch: info.epoch,
      epochs,
      batch: info.batch,
      batches: info.batches,
      loss: info.loss,
      accuracy: info.accuracy,
      ...(info.val ? { val: { loss: info.val.loss, accuracy: info.val.accuracy } } : {}),
    });
  }

  exporting(): void {
    this.enter('export');
    this.report({ batch: 0, batches: 1 });
  }

  finished(): void {
    for (const stage of STAGES) this.completed[stage] = this.total[stage];
    this.report({ batch: 1, batches: 1 });
  }
}
