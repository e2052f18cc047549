import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'bullmq';
import type { Config } from '../config/config.js';
import type { TrainingJobPayload } from '../contracts/training-job.js';
import { createRedis } from '../queue/redis-connection.js';
import { beat, workerId } from '../queue/training-queue.js';
import { selectBackend } from '../tfjs/tfjs-backend.js';
import type { JobOutcome } from './run-training-job.js';

/**
 * The sandboxed processor must be compiled JS: under a TypeScript loader the child does not
 * see its parent disconnect and would train on as an orphan. From src/ (tests, tsx) use the
 * build in dist/.
 */
export function processorPath(): string {
  const here = fileURLToPath(import.meta.url);
  const path = here.endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/worker/training.processor.js', import.meta.url))
    : fileURLToPath(new URL('./training.processor.js', import.meta.url));
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run build\` first`);
  return path;
}

export interface RunningWorker {
  worker: Worker<TrainingJobPayload, JobOutcome>;
  /** The tfjs backend this machine trains on. */
  backend: string;
  close(): Promise<void>;
}

/** A BullMQ worker that runs training jobs in sandboxed child processes and heartbeats in Redis. */
export async function startTrainingWorker(
  config: Config & { redisUrl: string },
): Promise<RunningWorker> {
  const backend = await selectBackend(config.tfjsBackend);
  const connection = createRedis(config.redisUrl, 'worker');
  const worker = new Worker<TrainingJobPayload, JobOutcome>(config.queueName, processorPath(), {
    connection,
    concurrency: config.workerConcurrency,
    useWorkerThreads: false,
  });
  const heartbeat = {
    id: workerId(),
    backend: backend.name,
    concurrency: config.workerConcurrency,
    startedAt: new Date().toISOString(),
  };
  const sendBeat = () => beat(connection, heartbeat).catch(() => undefined);
  await sendBeat();
  const timer = setInterval(() => void sendBeat(), 10_000);
  timer.unref();
  return {
    worker,
    backend: backend.name,
    async close() {
      clearInterval(timer);
      await worker.close();
      await connection.del(`graft:workers:${heartbeat.id}`).catch(() => undefined);
      connection.disconnect();
    },
  };
}
