import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.js';
import { resolveTrainingSpec } from '../contracts/training-spec.js';
import type { Prisma } from '../db/generated/client.js';
import { DatasetsRepository } from '../db/datasets.repository.js';
import type { Db } from '../db/prisma-client.js';
import { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { runTransfer } from '../services/transfer-run.js';
import { selectBackend } from '../tfjs/tfjs-backend.js';
import { selectionSummary } from '../training/report-summary.js';
import type { TrainingProgress, TrainingReport } from '../training/training-types.js';

export interface JobRunnerDeps {
  db: Db;
  store: ArtifactStore;
  config: Config;
  /** How often progress is written and the cancel flag read. */
  progressIntervalMs?: number;
}

export type JobOutcome = 'succeeded' | 'failed' | 'cancelled' | 'skipped';

interface EpochSummary {
  phase: string;
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
}

function metricsOf(report: TrainingReport) {
  return {
    kept: report.kept,
    keptReason: report.keptReason,
    evaluation: report.evaluation,
    featureExtraction: report.phases.featureExtraction.evaluation,
    fineTuning: report.phases.fineTuning?.evaluation ?? null,
    unfreezeFrom: report.phases.fineTuning?.unfreezeFrom ?? null,
    split: report.split,
    skipped: report.skipped,
    ...selectionSummary(report),
    seconds: {
      featureCache: report.featureCache.seconds,
      search: report.search.seconds,
      featureExtraction: report.phases.featureExtraction.seconds,
      fineTuning: report.phases.fineTuning?.seconds ?? 0,
      total: report.totalSeconds,
    },
  };
}

/**
 * Runs one training job end to end: claims the row, trains with the pure core, stores the
 * artifacts, records the model. Progress goes to Postgres (throttled); the persistent cancel
 * flag is read at the same pace and aborts training within a batch.
 */
export async function runTrainingJob(
  deps: JobRunnerDeps,
  jobId: string,
  signal?: AbortSignal,
): Promise<JobOutcome> {
  const jobs = new TrainingJobsRepository(deps.db);
  const row = await jobs.findById(jobId);
  if (!row) return 'skipped';
  if (!row.datasetId) {
    await jobs.fail(jobId, 'its dataset was deleted before training started');
    return 'failed';
  }
  // A job flagged for cancelling whose worker died is finished here, not restarted.
  if (row.cancelRequested) return (await jobs.cancel(jobId)) ? 'cancelled' : 'skipped';
  const backend = await selectBackend(deps.config.tfjsBackend);
  const claimed =
    row.status === 'queued'
      ? await jobs.markRunning(jobId, backend.name)
      : row.status === 'running' && (await jobs.resumeStalled(jobId, backend.name));
  if (!claimed) return 'skipped';

  const controller = new AbortController();
  signal?.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  const modelId = randomUUID();
  const artifactKey = `models/${modelId}`;
  const history: EpochSummary[] = [];
  let lastWrite = 0;
  let writing: Promise<void> = Promise.resolve();
  const interval = deps.progressIntervalMs ?? 1000;
  const onProgress = (p: TrainingProgress) => {
    if (
      p.val &&
      p.epoch !== undefined &&
      (p.stage === 'featureExtraction' || p.stage === 'fineTuning')
    ) {
      history.push({
        phase: p.stage,
        epoch: p.epoch,
        loss: p.loss ?? NaN,
        accuracy: p.accuracy ?? NaN,
        valLoss: p.val.loss,
        valAccuracy: p.val.accuracy,
      });
    }
    const now = Date.now();
    if (now - lastWrite < interval && !p.val) return;
    lastWrite = now;
    writing = writing
      .then(async () => {
        await jobs.recordProgress(jobId, {
          phase: p.stage,
          progress: Math.min(0.99, p.progress),
          epoch: p.epoch ?? null,
          epochs: p.epochs ?? null,
          etaSeconds: p.etaSeconds,
          history: history as unknown as Prisma.InputJsonValue,
        });
        if (await jobs.isCancelRequested(jobId))
          controller.abort(new Error('cancelled by request'));
      })
      .catch(() => undefined);
  };

  try {
    const spec = resolveTrainingSpec(row.spec);
    const images = await new DatasetsRepository(deps.db).images(row.datasetId);
    const { report } = await runTransfer({
      spec,
      config: deps.config,
      examples: images.map((image) => ({
        key: image.storageKey,
        label: image.label,
        ...(image.split === 'train' || image.split === 'val' ? { split: image.split } : {}),
        ...(image.contentHash ? { contentHash: image.contentHash } : {}),
      })),
      readImage: (key) => deps.store.get(key),
      signal: controller.signal,
      onProgress,
      writeArtifact: (name, data) => deps.store.put(`${artifactKey}/${name}`, data),
    });
    const metrics = metricsOf(report) as unknown as Prisma.InputJsonValue;
    await writing;
    const stored = await jobs.succeed(
      jobId,
      row.tenantId,
      row.datasetId,
      {
        id: modelId,
        baseModel: report.base.id,
        labels: report.labels,
        inputSize: report.base.preprocessing.size,
        preprocessing: report.base.preprocessing as unknown as Prisma.InputJsonValue,
        metrics,
        kept: report.kept,
        keptReason: report.keptReason,
        artifactKey,
      },
      metrics,
      history as unknown as Prisma.InputJsonValue,
    );
    if (!stored) {
      // Cancelled after the last check: the request wins over the finished training.
      await deps.store.remove(artifactKey);
      return (await jobs.cancel(jobId)) ? 'cancelled' : 'skipped';
    }
    return 'succeeded';
  } catch (error) {
    await writing;
    await deps.store.remove(artifactKey);
    if (controller.signal.aborted) {
      await jobs.cancel(jobId);
      return 'cancelled';
    }
    const message = error instanceof Error ? error.message : String(error);
    await jobs.fail(jobId, message);
    return 'failed';
  }
}
