/**
 * BullMQ sandboxed processor: runs in its own process so CPU-bound training never starves
 * the worker's lock renewal.
 */
import type { SandboxedJob } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { loadConfig } from '../config/config.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { DatasetsRepository } from '../db/datasets.repository.js';
import { EmbeddingCacheRepository } from '../db/embedding-cache.repository.js';
import { TenantsRepository } from '../db/tenants.repository.js';
import { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import { runTransfer } from '../services/transfer-run.js';
import { closeRedis, createRedis, whenReady } from '../queue/redis-connection.js';
import { wireData, wireJobEvents, type DataParts } from '../runtime/wiring.js';
import { tenantEmbeddings } from '../storage/embedding-cache.js';
import { selectBackend } from '../tfjs/tfjs-backend.js';
import type { TrainingReport } from '../training/training-types.js';
import type { JobOutcome } from './job-outcome.js';
import type { TrainingJobDeps } from './run-training-job.js';
import { limitsFromQuotas } from './tenant-limits.js';
import { deliverTrainingJob } from './training-delivery.js';
import { runStats } from './worker-metrics.js';

/** Often enough for a live progress bar and a cancel within a second or so. */
const PROGRESS_INTERVAL_MS = 1000;

// If the parent worker dies (even kill -9), stop instead of training on as an orphan.
process.on('disconnect', () => process.exit(1));

let parts: DataParts | undefined;
let logger: Logger | undefined;

function realDeps({ db, store, config }: DataParts): TrainingJobDeps {
  const tenants = new TenantsRepository(db, config.quotas);
  const index = new EmbeddingCacheRepository(db);
  const budgetBytes = config.engines.embeddingCacheBytes;
  return {
    jobs: new TrainingJobsRepository(db),
    datasets: new DatasetsRepository(db),
    store,
    train: (run) => runTransfer({ ...run, config }),
    backendName: async () => (await selectBackend(config.tfjsBackend)).name,
    progressIntervalMs: PROGRESS_INTERVAL_MS,
    limitsFor: limitsFromQuotas(config.quotas, (tenantId) => tenants.overrides(tenantId)),
    embeddings: (tenantId, baseDigest, onWarning) =>
      tenantEmbeddings({ store, index, tenantId, baseDigest, budgetBytes, onWarning }),
  };
}

export default async function process_(
  job: SandboxedJob,
  token?: string,
  signal?: AbortSignal,
): Promise<JobOutcome> {
  const config = loadConfig();
  if (!config.databaseUrl) throw new UnrecoverableError('DATABASE_URL is not set for the worker');
  parts ??= wireData({ ...config, databaseUrl: config.databaseUrl });
  logger ??= createLogger({ level: config.logLevel });
  // The run's stage timings go to the worker process, which serves the metrics.
  const onTrained = (report: TrainingReport) =>
    void job.updateProgress(runStats(report)).catch(() => undefined);
  // The job's events (state, progress) go to Redis on a connection of this run's, closed with it.
  const redis = config.redisUrl ? createRedis(config.redisUrl, 'events') : undefined;
  // It queues nothing while connecting: the claim publishes `running` at once.
  if (redis) await whenReady(redis);
  const events = redis && wireJobEvents(redis, parts.db, config);
  try {
    return await deliverTrainingJob(
      { ...realDeps(parts), logger, onTrained, ...(events ? { events } : {}) },
      job,
      token,
      signal,
    );
  } finally {
    if (redis) await closeRedis(redis);
  }
}
