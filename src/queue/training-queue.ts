import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  TRAINING_JOB_PAYLOAD_VERSION,
  type TrainingJobPayload,
} from '../contracts/training-job.js';

export const TRAIN_JOB_NAME = 'train';
const WORKERS_KEY = 'graft:workers';
const heartbeatKey = (workerId: string): string => `${WORKERS_KEY}:${workerId}`;

export type TrainingQueue = Queue<TrainingJobPayload>;

export function createTrainingQueue(name: string, connection: Redis): TrainingQueue {
  return new Queue<TrainingJobPayload>(name, {
    connection,
    defaultJobOptions: {
      // Training failures are deterministic; a worker crash is a stall, which BullMQ
      // re-delivers without spending an attempt.
      attempts: 1,
      removeOnComplete: { count: 1000 },
      removeOnFail: { count: 5000 },
    },
  });
}

/** The BullMQ job id is the database row's id, so a job can never be queued twice. */
export async function enqueueTraining(queue: TrainingQueue, jobId: string): Promise<void> {
  await queue.add(TRAIN_JOB_NAME, { version: TRAINING_JOB_PAYLOAD_VERSION, jobId }, { jobId });
}

/** Removes a job that has not started; a running one is stopped through its cancel flag. */
export async function dropQueued(queue: TrainingQueue, jobId: string): Promise<void> {
  const job = await queue.getJob(jobId);
  if (job && (await job.isWaiting())) await job.remove().catch(() => undefined);
}

export interface WorkerHeartbeat {
  id: string;
  backend: string;
  concurrency: number;
  startedAt: string;
  seenAt: string;
}

export async function beat(
  redis: Redis,
  heartbeat: Omit<WorkerHeartbeat, 'seenAt'>,
): Promise<void> {
  const value: WorkerHeartbeat = { ...heartbeat, seenAt: new Date().toISOString() };
  await redis.set(heartbeatKey(heartbeat.id), JSON.stringify(value), 'EX', 30);
}

/** A worker shutting down leaves at once instead of when its heartbeat expires. */
export async function endBeat(redis: Redis, workerId: string): Promise<void> {
  await redis.del(heartbeatKey(workerId));
}

export async function liveWorkers(redis: Redis): Promise<WorkerHeartbeat[]> {
  const keys = await redis.keys(heartbeatKey('*'));
  if (keys.length === 0) return [];
  const values = await redis.mget(keys);
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as WorkerHeartbeat);
}

export const workerId = (): string => `${hostname()}:${process.pid}`;
