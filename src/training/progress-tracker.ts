import type { TrainingSpec } from '../contracts/training-spec.js';
import type { BatchResult } from './phase-trainer.js';
import type { PhaseName, Stage, TrainingProgress } from './training-types.js';

/*
 * Whole-job progress and ETA. Work is counted in "image passes" weighted by their relative
 * cost (a frozen forward pass through the whole base = 1); the weights are refined by the
 * rates actually measured, so the ETA settles after the first batches of each stage.
 */
const DEFAULT_COST: Record<Stage, number> = {
  features: 1,
  featureExtraction: 0.01,
  fineTuning: 0.3,
  export: 0,
};

export class ProgressTracker {
  private readonly total: Record<Stage, number>;
  private readonly completed: Record<Stage, number> = {
    features: 0,
    featureExtraction: 0,
    fineTuning: 0,
    export: 0,
  };
  private readonly secondsPerImage: Partial<Record<Stage, number>> = {};
  private stageStart = performance.now();
  private stage: Stage = 'features';
  /** Estimates are refined as rates are measured; reported progress never goes backwards. */
  private reported = 0;

  constructor(
    spec: TrainingSpec,
    trainCount: number,
    valCount: number,
    private readonly emit?: (progress: TrainingProgress) => void,
  ) {
    const fine = spec.fineTuning.enabled ? spec.fineTuning.epochs : 0;
    this.total = {
      features: trainCount + valCount,
      featureExtraction: spec.featureExtraction.epochs * (trainCount + valCount),
      fineTuning: fine * (trainCount + valCount),
      export: 0,
    };
  }

  private enter(stage: Stage): void {
    if (this.stage === stage) return;
    this.stage = stage;
    this.stageStart = performance.now();
  }

  private cost(stage: Stage): number {
    const measured = this.secondsPerImage[stage];
    const reference = this.secondsPerImage.features;
    if (measured !== undefined && reference !== undefined) return measured / reference;
    return DEFAULT_COST[stage];
  }

  private report(
    fields: Omit<TrainingProgress, 'stage' | 'progress' | 'etaSeconds' | 'imagesPerSecond'>,
  ): void {
    const stage = this.stage;
    const elapsed = (performance.now() - this.stageStart) / 1000;
    const rate = this.completed[stage] / Math.max(elapsed, 1e-9);
    if (this.completed[stage] > 0) this.secondsPerImage[stage] = 1 / rate;
    const stages = Object.keys(this.total) as Stage[];
    const weighted = (counts: Record<Stage, number>) =>
      stages.reduce((sum, s) => sum + counts[s] * this.cost(s), 0);
    const totalWork = weighted(this.total);
    const doneWork = weighted(this.completed);
    const secondsPerUnit = this.secondsPerImage.features ?? 0.02;
    this.emit?.({
      stage,
      ...fields,
      imagesPerSecond: rate,
      progress: (this.reported = Math.max(
        this.reported,
        totalWork === 0 ? 1 : Math.min(1, doneWork / totalWork),
      )),
      etaSeconds: Math.max(0, (totalWork - doneWork) * secondsPerUnit),
    });
  }

  extracted(images: number): void {
    this.enter('features');
    this.completed.features += images;
    this.report({ batch: this.completed.features, batches: this.total.features });
  }

  trained(phase: PhaseName, epochs: number, info: BatchResult): void {
    this.enter(phase);
    // Validation passes are counted with the epoch's training images.
    const perEpoch = this.total[phase] / epochs;
    this.completed[phase] = Math.min(
      this.total[phase],
      (info.epoch - 1) * perEpoch +
        (info.val ? perEpoch : (info.batch / info.batches) * perEpoch * 0.9),
    );
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
    for (const stage of Object.keys(this.total) as Stage[])
      this.completed[stage] = this.total[stage];
    this.report({ batch: 1, batches: 1 });
  }
}
