/**
 * BullMQ sandboxed processor: runs in its own process so CPU-bound training never starves
 * the worker's lock renewal. Re-validates the payload; a bad one can never succeed.
 */
import type { SandboxedJob } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { loadConfig } from '../config/config.js';
import { isTrainingJobPayload } from '../contracts/training-job.js';
import { DatasetsRepository } from '../db/datasets.repository.js';
import { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import { runTransfer } from '../services/transfer-run.js';
import { wireData, type DataParts } from '../runtime/wiring.js';
import { selectBackend } from '../tfjs/tfjs-backend.js';
import type { JobOutcome } from './job-outcome.js';
import { runTrainingJob, type TrainingJobDeps } from './run-training-job.js';

/** Often enough for a live progress bar and a cancel within a second or so. */
const PROGRESS_INTERVAL_MS = 1000;

// If the parent worker dies (even kill -9), stop instead of training on as an orphan.
process.on('disconnect', () => process.exit(1));

let parts: DataParts | undefined;

function realDeps({ db, store, config }: DataParts): TrainingJobDeps {
  return {
    jobs: new TrainingJobsRepository(db),
    datasets: new DatasetsRepository(db),
    store,
    train: (run) => runTransfer({ ...run, config }),
    backendName: async () => (await selectBackend(config.tfjsBackend)).name,
    progressIntervalMs: PROGRESS_INTERVAL_MS,
  };
}

export default async function process_(
  job: SandboxedJob,
  _token?: string,
  signal?: AbortSignal,
): Promise<JobOutcome> {
  if (!isTrainingJobPayload(job.data)) {
    throw new UnrecoverableError(`invalid training job payload: ${JSON.stringify(job.data)}`);
  }
  const config = loadConfig();
  if (!config.databaseUrl) throw new UnrecoverableError('DATABASE_URL is not set for the worker');
  parts ??= wireData({ ...config, databaseUrl: config.databaseUrl });
  return runTrainingJob(realDeps(parts), job.data.jobId, signal);
}
