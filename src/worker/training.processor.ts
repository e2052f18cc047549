/**
 * BullMQ sandboxed processor: runs in its own process so CPU-bound training never starves
 * the worker's lock renewal. Re-validates the payload; a bad one can never succeed.
 */
import type { SandboxedJob } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import { loadConfig } from '../config/config.js';
import { isTrainingJobPayload } from '../contracts/training-job.js';
import { createDb, type Db } from '../db/prisma-client.js';
import { artifactStoreFor } from '../storage/artifact-store.js';
import { runTrainingJob, type JobOutcome } from './run-training-job.js';

// If the parent worker dies (even kill -9), stop instead of training on as an orphan.
process.on('disconnect', () => process.exit(1));

let db: Db | undefined;

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
  db ??= createDb(config.databaseUrl);
  return runTrainingJob(
    { db, store: artifactStoreFor(config.dataDir), config },
    job.data.jobId,
    signal,
  );
}
