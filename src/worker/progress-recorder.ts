import type { EpochRecordView } from '../contracts/training-summary.js';
import type { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import type { TrainingProgress } from '../training/training-types.js';

export interface ProgressRecorderOptions {
  /** How often progress is written and the cancel flag read; epoch ends are always written. */
  intervalMs: number;
  /** Called when a write finds the job's cancel flag set. */
  onCancelRequested: () => void;
}

/**
 * Turns the core's progress callbacks into throttled writes on the job row and the per-epoch
 * history, and reads the persistent cancel flag at the same pace. Writes run one at a time,
 * in order, and never throw: a lost progress write must not fail a training run.
 */
export class ProgressRecorder {
  readonly history: EpochRecordView[] = [];
  private lastWrite = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly jobId: string,
    private readonly options: ProgressRecorderOptions,
  ) {}

  /** The core's `onProgress`. */
  readonly record = (p: TrainingProgress): void => {
    const epochEnded = this.addEpoch(p);
    const now = Date.now();
    if (now - this.lastWrite < this.options.intervalMs && !epochEnded) return;
    this.lastWrite = now;
    this.writing = this.writing.then(() => this.write(p)).catch(() => undefined);
  };

  /** Resolves once every write asked for so far has finished. */
  settled(): Promise<void> {
    return this.writing;
  }

  private addEpoch(p: TrainingProgress): boolean {
    if (!p.val) return false;
    if (p.epoch !== undefined && (p.stage === 'featureExtraction' || p.stage === 'fineTuning')) {
      this.history.push({
        phase: p.stage,
        epoch: p.epoch,
        loss: p.loss ?? null,
        accuracy: p.accuracy ?? null,
        valLoss: p.val.loss,
        valAccuracy: p.val.accuracy,
      });
    }
    return true;
  }

  private async write(p: TrainingProgress): Promise<void> {
    await this.jobs.recordProgress(this.jobId, {
      phase: p.stage,
      progress: Math.min(0.99, p.progress),
      epoch: p.epoch ?? null,
      epochs: p.epochs ?? null,
      etaSeconds: p.etaSeconds,
      history: this.history,
    });
    if (await this.jobs.isCancelRequested(this.jobId)) this.options.onCancelRequested();
  }
}
