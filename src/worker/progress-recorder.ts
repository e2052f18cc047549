import type { EpochRecordView } from '../contracts/training-summary.js';
import type { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import type { ProgressEvent } from '../services/job-events.js';
import type { TrainingProgress } from '../training/training-types.js';

type Stage = TrainingProgress['stage'];

export interface ProgressRecorderOptions {
  /** The run's attempt: its writes land only while it owns the job. */
  attempt: number;
  /** How often progress is written and the cancel flag read; epoch ends are always written. */
  intervalMs: number;
  /** Called when a write finds the job's cancel flag set. */
  onCancelRequested: () => void;
  /** Called when a write finds the job no longer this run's (taken over, or ended). */
  onSuperseded: () => void;
  /**
   * What the job showed before this run (a job run before): progress is never shown lower, nor
   * the phase earlier, while this run catches up (its head is refitted after a resume).
   */
  floor?: { progress: number; phase: string | null; epoch: number | null; epochs: number | null };
  /**
   * Where `progress` events (at most one per `eventIntervalMs`, and each epoch's last batch)
   * and `epoch` events go, in order, one at a time; none without. It must not throw
   * (JobEvents.publish). While one is out, only the newest progress waits: a slow Redis gets
   * fewer progress events, never a growing queue, and every epoch.
   */
  publish?: (event: ProgressEvent) => Promise<void>;
  /** 250 ms when absent: a live progress bar, a few events a second. */
  eventIntervalMs?: number;
}

const PHASE_ORDER = { featureExtraction: 0, fineTuning: 1 } as const;
const STAGE_ORDER = ['features', 'featureExtraction', 'fineTuning', 'export'];
const stageOrder = (stage: string | null) => (stage === null ? -1 : STAGE_ORDER.indexOf(stage));

/**
 * Turns the core's progress callbacks into throttled writes on the job row and the per-epoch
 * history, and reads the persistent cancel flag at the same pace. Writes run one at a time,
 * in order, and never throw: a lost progress write must not fail a training run. A resumed
 * run's progress never goes below what was shown before, and its history keeps the epochs
 * its checkpoint holds.
 */
export class ProgressRecorder {
  readonly history: EpochRecordView[];
  private readonly floor: NonNullable<ProgressRecorderOptions['floor']>;
  private lastWrite = 0;
  private writing: Promise<void> = Promise.resolve();
  private lastEvent = 0;
  /** Events waiting for the one out to be told: at most one progress between epochs. */
  private waiting: ProgressEvent[] = [];
  /** The publish out now, and those waiting after it; resolved when none is. */
  private telling: Promise<void> = Promise.resolve();
  private busy = false;

  constructor(
    private readonly jobs: TrainingJobsRepository,
    private readonly jobId: string,
    private readonly options: ProgressRecorderOptions,
  ) {
    this.history = [];
    this.floor = options.floor ?? { progress: 0, phase: null, epoch: null, epochs: null };
  }

  /** The epochs an earlier run recorded that this one continues from (kept on show). */
  keep(records: readonly EpochRecordView[]): void {
    for (const record of records) this.put(record);
  }

  private put(record: EpochRecordView): void {
    // An epoch run again after a resume replaces its record; phases stay in order.
    const same = this.history.findIndex(
      (r) => r.phase === record.phase && r.epoch === record.epoch,
    );
    if (same >= 0) this.history[same] = record;
    else this.history.push(record);
    this.history.sort((a, b) => PHASE_ORDER[a.phase] - PHASE_ORDER[b.phase] || a.epoch - b.epoch);
  }

  /** The core's `onProgress`. */
  readonly record = (p: TrainingProgress): void => {
    const epoch = this.addEpoch(p);
    this.announce(p, epoch);
    const now = Date.now();
    if (now - this.lastWrite < this.options.intervalMs && !epoch.ended) return;
    this.lastWrite = now;
    this.writing = this.writing.then(() => this.write(p)).catch(() => undefined);
  };

  /**
   * Resolves once every write asked for so far has finished, and every event was told, or
   * `eventsMs` passed: then the events still waiting are dropped (a run's result is recorded
   * whether or not Redis answers; its end is told after it).
   */
  async settled(eventsMs = Infinity): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const bound =
      eventsMs === Infinity
        ? new Promise<never>(() => undefined)
        : new Promise<void>((resolve) => (timer = setTimeout(resolve, eventsMs)));
    try {
      await Promise.all([this.writing, Promise.race([this.telling, bound])]);
    } finally {
      clearTimeout(timer);
      if (eventsMs !== Infinity) this.waiting = [];
    }
  }

  private addEpoch(p: TrainingProgress): { ended: boolean; record?: EpochRecordView } {
    if (!p.val) return { ended: false };
    if (p.epoch !== undefined && (p.stage === 'featureExtraction' || p.stage === 'fineTuning')) {
      const record = {
        phase: p.stage,
        epoch: p.epoch,
        loss: p.loss ?? null,
        accuracy: p.accuracy ?? null,
        valLoss: p.val.loss,
        valAccuracy: p.val.accuracy,
      };
      this.put(record);
      return { ended: true, record };
    }
    return { ended: true };
  }

  /** What the job shows for `p`: never below, nor in an earlier stage than, its floor. */
  private shown(p: TrainingProgress) {
    const floor = this.floor;
    const behind = stageOrder(p.stage) < stageOrder(floor.phase);
    return {
      // The floor's phase is a stage the job showed before.
      phase: behind ? (floor.phase as Stage) : p.stage,
      progress: Math.max(floor.progress, Math.min(0.99, p.progress)),
      epoch: behind ? floor.epoch : (p.epoch ?? null),
      epochs: behind ? floor.epochs : (p.epochs ?? null),
    };
  }

  /** The throttled `progress` event (always an epoch's last batch), then any `epoch` event. */
  private announce(p: TrainingProgress, epoch: { ended: boolean; record?: EpochRecordView }) {
    const { publish } = this.options;
    if (!publish) return;
    const now = Date.now();
    const at = new Date(now).toISOString();
    const events: ProgressEvent[] = [];
    const lastBatch = epoch.ended || p.batch >= p.batches;
    if (lastBatch || now - this.lastEvent >= (this.options.eventIntervalMs ?? 250)) {
      this.lastEvent = now;
      events.push({
        type: 'progress',
        jobId: this.jobId,
        at,
        ...this.shown(p),
        batch: p.batch,
        batches: p.batches,
        loss: p.loss ?? null,
        accuracy: p.accuracy ?? null,
        etaSeconds: p.etaSeconds,
      });
    }
    if (epoch.record) events.push({ type: 'epoch', jobId: this.jobId, at, record: epoch.record });
    for (const event of events) {
      // A progress not yet told is superseded by a newer one; epochs always wait their turn.
      if (event.type === 'progress' && this.waiting.at(-1)?.type === 'progress')
        this.waiting[this.waiting.length - 1] = event;
      else this.waiting.push(event);
    }
    if (events.length > 0 && !this.busy) this.telling = this.tell(publish);
  }

  /** Tells the waiting events one at a time, until none waits. */
  private async tell(publish: NonNullable<ProgressRecorderOptions['publish']>): Promise<void> {
    this.busy = true;
    try {
      for (let event = this.waiting.shift(); event; event = this.waiting.shift())
        await publish(event).catch(() => undefined);
    } finally {
      this.busy = false;
    }
  }

  private async write(p: TrainingProgress): Promise<void> {
    const owned = await this.jobs.recordProgress(this.jobId, this.options.attempt, {
      ...this.shown(p),
      etaSeconds: p.etaSeconds,
      history: this.history,
    });
    if (await this.jobs.isCancelRequested(this.jobId)) this.options.onCancelRequested();
    else if (!owned) this.options.onSuperseded();
  }
}
