import type { Worker } from 'bullmq';
import {
  trainingFeatureImages,
  trainingImagesPerSecond,
  trainingJobsFinished,
  trainingPhaseDuration,
} from '../observability/metrics.js';
import type { TrainingReport } from '../training/training-types.js';

/*
 * Training runs in a sandboxed child process, whose metrics nobody scrapes. So a run that has
 * its report sends the worker process its stage timings, as BullMQ job progress (the one
 * channel from a sandboxed child to its worker, which then emits 'progress'); the worker
 * process observes them. Job progress as users see it lives in PostgreSQL; BullMQ's is unused.
 */

const PHASES = ['featureCache', 'search', 'featureExtraction', 'fineTuning', 'total'] as const;
type Phase = (typeof PHASES)[number];
const THROUGHPUT = ['featureCache', 'featureExtraction', 'fineTuning'] as const;
type ThroughputPhase = (typeof THROUGHPUT)[number];

/** What a run reports to its worker process. */
export interface RunStats {
  kind: 'graft-run-stats';
  seconds: Partial<Record<Phase, number>>;
  imagesPerSecond: Partial<Record<ThroughputPhase, number>>;
  /** Images whose frozen outputs were extracted, and those the embedding cache had. */
  featureImages?: { extracted: number; embeddingCache: number };
}

/** The stage timings of a finished training run. */
export function runStats(report: TrainingReport): RunStats {
  const { featureExtraction, fineTuning } = report.phases;
  return {
    kind: 'graft-run-stats',
    seconds: {
      featureCache: report.featureCache.seconds,
      search: report.search.seconds,
      featureExtraction: featureExtraction.seconds,
      ...(fineTuning ? { fineTuning: fineTuning.seconds } : {}),
      total: report.totalSeconds,
    },
    imagesPerSecond: {
      featureCache: report.featureCache.imagesPerSecond,
      featureExtraction: featureExtraction.imagesPerSecond,
      ...(fineTuning ? { fineTuning: fineTuning.imagesPerSecond } : {}),
    },
    // A resumed run took its outputs from a checkpoint: neither extracted nor cached.
    ...(report.featureCache.engine === 'checkpoint'
      ? {}
      : {
          featureImages: {
            extracted: report.featureCache.images - (report.featureCache.fromEmbeddingCache ?? 0),
            embeddingCache: report.featureCache.fromEmbeddingCache ?? 0,
          },
        }),
  };
}

const finite = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** Observes a run's stage timings; anything else (any other progress) is ignored. */
export function observeRunStats(progress: unknown): void {
  const stats = progress as Partial<RunStats> | null;
  if (stats?.kind !== 'graft-run-stats') return;
  for (const phase of PHASES) {
    const seconds = stats.seconds?.[phase];
    if (finite(seconds)) trainingPhaseDuration.observe({ phase }, seconds);
  }
  for (const phase of THROUGHPUT) {
    const rate = stats.imagesPerSecond?.[phase];
    if (finite(rate)) trainingImagesPerSecond.set({ phase }, rate);
  }
  const images = stats.featureImages;
  if (finite(images?.extracted))
    trainingFeatureImages.inc({ source: 'extracted' }, images.extracted);
  if (finite(images?.embeddingCache))
    trainingFeatureImages.inc({ source: 'embedding_cache' }, images.embeddingCache);
}

/** Counts the worker's finished deliveries by outcome and observes what its runs report. */
export function observeTrainingWorker(worker: Worker): void {
  worker.on('progress', (_job, progress) => observeRunStats(progress));
  worker.on('completed', (_job, outcome: unknown) =>
    trainingJobsFinished.inc({ outcome: typeof outcome === 'string' ? outcome : 'unknown' }),
  );
  worker.on('failed', () => trainingJobsFinished.inc({ outcome: 'error' }));
}
