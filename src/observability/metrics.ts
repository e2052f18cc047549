import { createHash, timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { MetricsSettings } from '../config/config.js';

/*
 * Every Prometheus series Graft exports, in one registry. Each process (an API replica, a
 * worker, the all-in-one `npm start`) has its own and serves it: the API on its port at
 * /metrics, a worker on GRAFT_METRICS_PORT. Series are named graft_*, with their unit last
 * (_seconds, _total) as Prometheus' conventions ask, and labels drawn from small fixed sets
 * (route patterns, never URLs; states; operations).
 *
 * What lives where:
 * - API: HTTP requests, inference, model cache, storage, and, read at scrape time, the queue's
 *   depth (BullMQ) and jobs by status (PostgreSQL); see `setScrapeSources`.
 * - worker: job outcomes, phase durations and training throughput (observed in the worker
 *   process when a run reports its stage timings, worker/worker-metrics.ts), and the storage
 *   operations of its reaper. A run's own reads and writes happen in its sandboxed child,
 *   whose registry nobody scrapes: they are not counted.
 */

export const registry = new Registry();

const PREFIX = 'graft_';
let defaultsOn = false;

/** Node's process metrics (CPU, memory, event-loop lag, GC…) as graft_process_* / graft_nodejs_*. */
export function enableDefaultMetrics(): void {
  if (defaultsOn) return;
  defaultsOn = true;
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
}

const registers = [registry];

// --- HTTP (api/plugins/http-metrics.ts) ---

export const httpRequestDuration = new Histogram({
  name: 'graft_http_request_duration_seconds',
  help: 'HTTP requests answered, by method, route pattern (unmatched: no route) and status',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
  registers,
});

// --- Queue and jobs, read when scraped (setScrapeSources) ---

/** BullMQ states a training job waits or runs in. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'delayed', 'active', 'paused'] as const;
/** Job statuses as PostgreSQL holds them (contracts/training-summary.ts JOB_STATUSES). */
const JOB_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;

export interface JobStatusCounts {
  /** Jobs per status; a status not named has none. */
  byStatus: Partial<Record<string, number>>;
  /** When the job waiting longest was (last) queued: created, handed back or requeued. */
  oldestQueuedAt: Date | null;
}

/** What the API reads when it is scraped; each is bounded by SCRAPE_TIMEOUT_MS. */
export interface ScrapeSources {
  /** BullMQ's `getJobCounts` for QUEUE_STATES: one Redis round trip. */
  queueCounts: () => Promise<Partial<Record<string, number>>>;
  /** One GROUP BY over the job rows. */
  jobCounts: () => Promise<JobStatusCounts>;
}

const SCRAPE_TIMEOUT_MS = 2000;
/** Scrapes closer together than this (several Prometheus servers) share one reading. */
const SCRAPE_REUSE_MS = 1000;

let sources: ScrapeSources | undefined;

export const scrapeErrors = new Counter({
  name: 'graft_metrics_scrape_errors_total',
  help: 'Scrape-time readings that failed or took over 2 s (their series are left out of that scrape)',
  labelNames: ['source'] as const,
  registers,
});

/** One reading shared by the gauges of one scrape; undefined when it failed. */
function reading<T>(
  source: 'queue' | 'jobs',
  read: () => Promise<T>,
): () => Promise<T | undefined> {
  let last: { at: number; value: Promise<T | undefined> } | undefined;
  return () => {
    const now = Date.now();
    if (last && now - last.at < SCRAPE_REUSE_MS) return last.value;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), SCRAPE_TIMEOUT_MS);
      timer.unref();
    });
    const value = Promise.race([read(), timeout])
      .catch(() => {
        scrapeErrors.inc({ source });
        return undefined;
      })
      .finally(() => clearTimeout(timer));
    last = { at: now, value };
    return value;
  };
}

let readQueue: () => Promise<Partial<Record<string, number>> | undefined> = () =>
  Promise.resolve(undefined);
let readJobs: () => Promise<JobStatusCounts | undefined> = () => Promise.resolve(undefined);

/**
 * Where the queue and job gauges read from when scraped (an API process sets them up in
 * runtime/wiring.ts; a worker has none, so its scrape shows no queue series). Returns what
 * takes them away again.
 */
export function setScrapeSources(given: ScrapeSources): () => void {
  sources = given;
  readQueue = reading('queue', given.queueCounts);
  readJobs = reading('jobs', given.jobCounts);
  return () => {
    if (sources !== given) return;
    sources = undefined;
    readQueue = () => Promise.resolve(undefined);
    readJobs = () => Promise.resolve(undefined);
  };
}

new Gauge({
  name: 'graft_queue_jobs',
  help: 'Training jobs in the BullMQ queue by state (ranked jobs wait as prioritized, deferred ones as delayed)',
  labelNames: ['state'] as const,
  registers,
  async collect() {
    this.reset();
    const counts = await readQueue();
    if (!counts) return;
    for (const state of QUEUE_STATES) this.set({ state }, counts[state] ?? 0);
  },
});

new Gauge({
  name: 'graft_queue_oldest_waiting_age_seconds',
  help: 'How long the job waiting longest has been queued (since created, handed back or requeued); 0 when none waits',
  registers,
  async collect() {
    this.reset();
    const jobs = await readJobs();
    if (!jobs) return;
    const since = jobs.oldestQueuedAt?.getTime();
    this.set(since === undefined ? 0 : Math.max(0, (Date.now() - since) / 1000));
  },
});

new Gauge({
  name: 'graft_training_jobs',
  help: 'Training jobs by status, from PostgreSQL',
  labelNames: ['status'] as const,
  registers,
  async collect() {
    this.reset();
    const jobs = await readJobs();
    if (!jobs) return;
    for (const status of JOB_STATUSES) this.set({ status }, jobs.byStatus[status] ?? 0);
  },
});

// --- Job events and webhooks ---

export const jobEventStreams = new Gauge({
  name: 'graft_job_event_streams',
  help: 'GET /v1/jobs/{id}/events streams this API process follows now (opening ones included)',
  registers,
});

export const webhookDeliveryAttempts = new Counter({
  name: 'graft_webhook_delivery_attempts_total',
  help: 'Webhook delivery attempts this process made, by outcome: succeeded (a 2xx), retry (failed, another attempt to come), failed (the last, or refused by the URL fence)',
  labelNames: ['outcome'] as const,
  registers,
});

// --- Training, observed in the worker process (worker/worker-metrics.ts) ---

export const trainingJobsFinished = new Counter({
  name: 'graft_training_jobs_finished_total',
  help: 'Deliveries of training jobs this worker finished, by outcome (error: the processor failed outside the run)',
  labelNames: ['outcome'] as const,
  registers,
});

export const trainingPhaseDuration = new Histogram({
  name: 'graft_training_phase_duration_seconds',
  help: 'Time a finished training run spent per phase (featureCache, search, featureExtraction, fineTuning, total)',
  labelNames: ['phase'] as const,
  buckets: [0.5, 1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14_400],
  registers,
});

export const trainingImagesPerSecond = new Gauge({
  name: 'graft_training_images_per_second',
  help: 'Images per second of the last training run this worker finished, by phase',
  labelNames: ['phase'] as const,
  registers,
});

export const trainingFeatureImages = new Counter({
  name: 'graft_training_feature_images_total',
  help: "Images whose frozen outputs a finished run needed, by source: extracted (decoded and run through the base) or embedding_cache (the tenant's cache had them)",
  labelNames: ['source'] as const,
  registers,
});

// --- Inference (inference/inference-metrics.ts) ---

export const inferenceRequestDuration = new Histogram({
  name: 'graft_inference_request_duration_seconds',
  help: 'Predict requests to the inference thread, queueing included, by outcome (ok, error)',
  labelNames: ['outcome'] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers,
});

export const inferenceBatchImages = new Histogram({
  name: 'graft_inference_batch_images',
  help: 'Images the inference thread ran through a model in one batch (concurrent requests merged), by engine (onnxruntime, tfjs)',
  labelNames: ['engine'] as const,
  buckets: [1, 2, 4, 8, 16, 32, 64, 128],
  registers,
});

export const inferenceBatchDuration = new Histogram({
  name: 'graft_inference_batch_duration_seconds',
  help: 'Time the inference thread took to run one batch through a loaded model, by engine (onnxruntime, tfjs)',
  labelNames: ['engine'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers,
});

export const modelCacheHits = new Counter({
  name: 'graft_inference_model_cache_hits_total',
  help: 'Batches whose model the inference thread had loaded',
  registers,
});

export const modelCacheMisses = new Counter({
  name: 'graft_inference_model_cache_misses_total',
  help: 'Batches whose model the inference thread had to load first',
  registers,
});

export const modelCacheEvictions = new Counter({
  name: 'graft_inference_model_cache_evictions_total',
  help: 'Models the inference thread let go, by reason (budget: least recently used over GRAFT_INFERENCE_CACHE_BYTES; deleted: its model was deleted)',
  labelNames: ['reason'] as const,
  registers,
});

// --- Storage (storage/instrumented-store.ts) ---

export const storageOperationDuration = new Histogram({
  name: 'graft_storage_operation_duration_seconds',
  help: 'Artifact store operations by operation (put, get, stream, exists, remove, list, …), failures included',
  labelNames: ['operation'] as const,
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers,
});

export const storageOperationErrors = new Counter({
  name: 'graft_storage_operation_errors_total',
  help: 'Artifact store operations that failed, by operation',
  labelNames: ['operation'] as const,
  registers,
});

// --- Who may read them ---

export type MetricsAccess = 'allowed' | 'unauthorized' | 'hidden';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Whether a scrape sending `authorization` may read the metrics. With GRAFT_METRICS_TOKEN set,
 * only `Bearer <token>` (compared in constant time; a tenant's API key is never it); with
 * GRAFT_METRICS=open, anyone; otherwise nobody, and /metrics answers as if it did not exist.
 */
export function metricsAccess(
  settings: MetricsSettings,
  authorization: string | undefined,
): MetricsAccess {
  if (settings.access === 'off') return 'hidden';
  if (settings.access === 'open') return 'allowed';
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) return 'unauthorized';
  return timingSafeEqual(digest(match[1]!), digest(settings.token)) ? 'allowed' : 'unauthorized';
}

/** The text a scrape gets, and its content type. */
export async function scrape(): Promise<{ contentType: string; body: string }> {
  return { contentType: registry.contentType, body: await registry.metrics() };
}
