import { hostname } from 'node:os';
import { PRIORITY_LIMIT, Queue } from 'bullmq';
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

/** A queued job's place in its tenant's line, counting the tenant's running jobs first. */
export interface QueueRank {
  jobId: string;
  rank: number;
}

/** BullMQ takes the lowest priority first; 0 would mean "before every prioritised job". */
const priorityOf = (rank: number): number => Math.min(Math.max(1, rank), PRIORITY_LIMIT);

/**
 * The BullMQ job id is the database row's id, so a job can never be queued twice. `rank` is
 * its place in its tenant's line (from PostgreSQL, `TrainingJobsRepository.queueRank`), used as
 * BullMQ's priority: every tenant's next job outranks any tenant's second, so dispatch goes
 * round the tenants instead of first come, first served (see worker/fair-share.ts). `labels`
 * tie the worker's log lines to the tenant and to the API request that queued the job.
 */
export async function enqueueTraining(
  queue: TrainingQueue,
  jobId: string,
  rank: number,
  labels: Pick<TrainingJobPayload, 'tenantId' | 'requestId'> = {},
): Promise<void> {
  const { tenantId, requestId } = labels;
  await queue.add(
    TRAIN_JOB_NAME,
    {
      version: TRAINING_JOB_PAYLOAD_VERSION,
      jobId,
      ...(tenantId ? { tenantId } : {}),
      ...(requestId ? { requestId } : {}),
    },
    { jobId, priority: priorityOf(rank) },
  );
}

/**
 * Moves a tenant's queued jobs to their current ranks: one of its jobs finishing moves the
 * rest up. A job taken or removed meanwhile is skipped; its priority no longer matters.
 */
export async function rerank(queue: TrainingQueue, ranks: readonly QueueRank[]): Promise<void> {
  for (const { jobId, rank } of ranks) {
    const job = await queue.getJob(jobId);
    const priority = priorityOf(rank);
    if (job && job.priority !== priority)
      await job.changePriority({ priority }).catch(() => undefined);
  }
}

/**
 * Graft delays a job only to defer it (its tenant had its share of the workers): when a job
 * ends, a worker is free, so every deferred job is offered again at once instead of waiting
 * out its delay.
 */
export async function promoteDeferred(queue: TrainingQueue, most = 1000): Promise<void> {
  for (const job of await queue.getDelayed(0, most - 1)) await job.promote().catch(() => undefined);
}

/** Removes a job that has not started; a running one is stopped through its cancel flag. */
export async function dropQueued(queue: TrainingQueue, jobId: string): Promise<void> {
  const job = await queue.getJob(jobId);
  if (!job) return;
  // Ranked jobs wait as 'prioritized', deferred ones as 'delayed'.
  const state = await job.getState();
  if (state === 'waiting' || state === 'prioritized' || state === 'delayed')
    await job.remove().catch(() => undefined);
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

/** Heartbeats found by SCAN (never KEYS, which blocks Redis while it walks every key). */
export async function liveWorkers(redis: Redis): Promise<WorkerHeartbeat[]> {
  const keys = new Set<string>();
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', heartbeatKey('*'), 'COUNT', 200);
    for (const key of batch) keys.add(key);
    cursor = next;
  } while (cursor !== '0');
  if (keys.size === 0) return [];
  const values = await redis.mget([...keys]);
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as WorkerHeartbeat);
}

export const workerId = (): string => `${hostname()}:${process.pid}`;
