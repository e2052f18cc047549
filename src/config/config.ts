import { availableParallelism, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import type { QuotaLimits } from '../contracts/quotas.js';

/** The tfjs backends Graft can train on, best first (src/tfjs starts them). */
export const BACKEND_ORDER = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

export function isBackendName(value: string): value is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(value);
}

/** Where an API replica or a worker connects when DATABASE_URL / REDIS_URL are unset. */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/graft';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Limits on base models downloaded from URLs, when their variables are unset. */
export const BASE_DOWNLOAD_DEFAULTS = {
  maxFileBytes: 64 * 1024 ** 2,
  maxModelBytes: 256 * 1024 ** 2,
  maxFiles: 64,
  timeoutMs: 60_000,
  cacheBytes: 1024 ** 3,
} as const;

/** Base models from URLs (storage/base-model-store.ts): who may name one, and the caps. */
export interface BaseModelUrlSettings {
  /** GRAFT_ALLOW_BASE_URLS: hosts (or `*.domain`) a job's https URL may name; empty: none. */
  allowHosts: string[];
  maxFileBytes: number;
  maxModelBytes: number;
  maxFiles: number;
  timeoutMs: number;
  /** Byte budget of the download cache (least recently used evicted). */
  cacheBytes: number;
}

/** Webhook deliveries (services/webhooks.service.ts, worker/webhook-worker.ts). */
export interface WebhookSettings {
  /** GRAFT_WEBHOOK_HOSTS: hosts (or `*.domain`) a webhook URL may name; `*` (the default): any public host. */
  allowHosts: string[];
  /** Tries per delivery, the first included (GRAFT_WEBHOOK_ATTEMPTS). */
  attempts: number;
  /** The wait before the first retry; it doubles after each (GRAFT_WEBHOOK_BACKOFF_MS). */
  backoffMs: number;
  /** One POST, connecting included (GRAFT_WEBHOOK_TIMEOUT_MS). */
  timeoutMs: number;
  /** Webhooks one tenant may register (GRAFT_WEBHOOKS_PER_TENANT). */
  maxPerTenant: number;
  /** Finished deliveries are kept this long, then the reaper removes them (GRAFT_WEBHOOK_LOG_DAYS). */
  logDays: number;
  /** A webhook whose deliveries failed this many times in a row is disabled (GRAFT_WEBHOOK_DISABLE_AFTER). */
  disableAfter: number;
  /** Deliveries one tenant may have pending; new ones beyond are recorded failed (GRAFT_WEBHOOK_MAX_PENDING). */
  maxPending: number;
}

/** Routes with a rate limit of their own; api/plugins/rate-limits.ts says which route is which. */
export const RATE_CLASSES = ['default', 'uploads', 'jobs', 'predict', 'thumbnails'] as const;
export type RateClass = (typeof RATE_CLASSES)[number];
/** At most `max` requests per fixed window of `windowMs`, per tenant, all its keys together (per IP without a key). */
export interface RateLimit {
  max: number;
  windowMs: number;
}
export type RateLimits = Record<RateClass, RateLimit>;
/** One tenant's own limits (`npm run tenants -- set-rate`; `limitsFor` in api/app.ts reads them). */
export type RateLimitOverrides = Partial<Record<RateClass, Partial<RateLimit>>>;

export const isRateClass = (name: string): name is RateClass =>
  (RATE_CLASSES as readonly string[]).includes(name);

/**
 * GRAFT_RATE_<CLASS> when unset: ~10/s with bursts to 100, few uploads and jobs, 20 predicts/s,
 * and thumbnails apart (a console page of a dataset shows a few hundred).
 */
export const RATE_LIMIT_DEFAULTS: RateLimits = {
  default: { max: 100, windowMs: 10_000 },
  uploads: { max: 10, windowMs: 60_000 },
  jobs: { max: 30, windowMs: 60_000 },
  predict: { max: 200, windowMs: 10_000 },
  thumbnails: { max: 1000, windowMs: 10_000 },
};

/** How one API process sheds load instead of slowing down for everyone (see the README). */
export interface AdmissionSettings {
  /** A connection that sends nothing for this long in the middle of a request is closed. */
  idleTimeoutMs: number;
  /** A whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** Predict requests one process holds at once (reading, decoding, queued, running). */
  predictMaxInFlight: number;
  /** A predict request not answered within this gets 503. */
  predictTimeoutMs: number;
  /** Images waiting for or in the inference thread; more answer 503. */
  inferenceMaxPending: number;
  /** Images decoded at once by one process. */
  decodeConcurrency: number;
  /** Above these (0: unchecked) every route but /healthz and /readyz answers 503. */
  maxEventLoopDelayMs: number;
  maxHeapUsedBytes: number;
  maxRssBytes: number;
}

/**
 * Who may read the Prometheus metrics (`GET /metrics` on the API port; a worker's on
 * GRAFT_METRICS_PORT): with GRAFT_METRICS_TOKEN, scrapers that send it as a bearer token;
 * with GRAFT_METRICS=open and no token, anyone who can reach the port; otherwise (the
 * default, or GRAFT_METRICS=off) nobody: /metrics answers 404.
 */
export type MetricsSettings = (
  { access: 'token'; token: string } | { access: 'open' } | { access: 'off' }
) & {
  /** GRAFT_METRICS_PORT: where a worker process (npm run start:worker) serves its /metrics. */
  port?: number;
};

/** A metrics token shorter than this is refused: it guards the whole service's numbers. */
const MIN_METRICS_TOKEN_LENGTH = 16;

function metricsSettings(env: NodeJS.ProcessEnv): MetricsSettings {
  const mode = env.GRAFT_METRICS?.trim().toLowerCase() || undefined;
  const token = env.GRAFT_METRICS_TOKEN?.trim() || undefined;
  const port = env.GRAFT_METRICS_PORT?.trim()
    ? { port: positiveInteger(env, 'GRAFT_METRICS_PORT', 0) }
    : {};
  if (mode !== undefined && mode !== 'open' && mode !== 'off') {
    throw new ConfigError(`GRAFT_METRICS='${mode}' must be open or off (or unset)`);
  }
  if (mode === 'off') return { access: 'off', ...port };
  if (token === undefined) return { access: mode === 'open' ? 'open' : 'off', ...port };
  if (mode === 'open') {
    throw new ConfigError(
      'GRAFT_METRICS=open and GRAFT_METRICS_TOKEN contradict each other: unset one of them',
    );
  }
  if (token.length < MIN_METRICS_TOKEN_LENGTH || /\s/.test(token)) {
    throw new ConfigError(
      `GRAFT_METRICS_TOKEN must be at least ${MIN_METRICS_TOKEN_LENGTH} characters, without spaces`,
    );
  }
  return { access: 'token', token, ...port };
}

/** Every setting Graft reads from the environment, parsed once (this is the only reader). */
export interface Config {
  /** Forces a tfjs backend instead of picking the best one present. */
  tfjsBackend?: BackendName;
  /** Folder with local copies of catalog bases (`<mirrorName>/model.json`). */
  modelMirror?: string;
  dataDir: string;
  modelCacheDir: string;
  /** Where images, models and checkpoints are kept (GRAFT_STORAGE_URL). */
  storage: StorageSettings;
  /** Unset: the all-in-one start looks on the default port, then starts an embedded one. */
  databaseUrl?: string;
  redisUrl?: string;
  host: string;
  port: number;
  logLevel: string;
  /** Largest accepted dataset upload, bytes. */
  maxUploadBytes: number;
  /** Most images a dataset may hold, and fewest per class. */
  maxImagesPerDataset: number;
  minImagesPerClass: number;
  /** Jobs one worker process runs at a time. */
  workerConcurrency: number;
  queueName: string;
  /** Loaded models kept for prediction, by weight bytes (least recently used evicted). */
  inferenceCacheBytes: number;
  /**
   * Trained models' files kept on this machine's disk for prediction (`<dataDir>/cache/models`,
   * fetched from the artifact store; least recently used evicted above this many bytes).
   */
  modelFileCacheBytes: number;
  /** Most images one prediction batch runs through a model. */
  inferenceMaxBatch: number;
  /** Each tenant's limits unless it has its own (`npm run tenants -- set-quota`). */
  quotas: QuotaLimits;
  baseModelUrls: BaseModelUrlSettings;
  webhooks: WebhookSettings;
  /** Undefined when GRAFT_RATE_LIMITS=off. */
  rateLimits: RateLimits | undefined;
  admission: AdmissionSettings;
  /**
   * Which proxies in front of the API to believe about the client's address (X-Forwarded-For),
   * for per-address rate limits: false (none, the default), a number of hops, or addresses and
   * CIDR ranges. Fastify's `trustProxy`.
   */
  trustProxy: boolean | number | string[];
  recovery: RecoverySettings;
  /** Who may read the Prometheus metrics, and where a worker serves them. */
  metrics: MetricsSettings;
  /** ONNX Runtime for the frozen part in training and for serving (README: "Engines"). */
  engines: EngineSettings;
  /**
   * How long a job's event stream (`GET /v1/jobs/:id/events`) is kept in Redis after its last
   * event (GRAFT_JOB_EVENTS_TTL_HOURS; 7 days by default).
   */
  jobEventsTtlHours: number;
}

/** How inference runs on CPU (README: "Engines"). */
export interface EngineSettings {
  /**
   * GRAFT_ONNX: `auto` (the default) runs the frozen part of the base and predictions through
   * ONNX Runtime where it loads and the model converts, tfjs otherwise; `off` keeps tfjs. On
   * the tensorflow-gpu backend the GPU does everything either way.
   */
  onnx: 'auto' | 'off';
  /** ONNX Runtime intra-op threads per session (GRAFT_ONNX_THREADS; default: the cores). */
  onnxThreads: number;
  /**
   * Worker threads that run the frozen part when ONNX Runtime cannot (one wasm instance each;
   * GRAFT_EXTRACT_THREADS; default: the cores; 1 runs it in the training process itself).
   */
  extractThreads: number;
  /**
   * Cached features per tenant across jobs, in the artifact store, least recently used
   * evicted above this many bytes (GRAFT_EMBEDDING_CACHE_BYTES; 0 turns the cache off).
   */
  embeddingCacheBytes: number;
}

/** How jobs survive dead workers, restarts and lost writes (README: "Surviving faults"). */
export interface RecoverySettings {
  /**
   * A worker's lock on a job lasts this long unless renewed (every half of it): a worker that
   * died is noticed within this plus `stalledIntervalMs`.
   */
  lockMs: number;
  /** How often workers look for jobs whose lock lapsed (BullMQ's stalled check). */
  stalledIntervalMs: number;
  /** Times one job may be picked up again after its worker died before it fails. */
  maxStalls: number;
  /** SIGTERM: a worker hands its job back and an API finishes its requests within this. */
  drainTimeoutMs: number;
  /** How often each worker's reaper looks for stuck jobs and orphaned files. */
  reaperIntervalMs: number;
  /** Temp files, partial artifacts and checkpoints nobody owns are removed after this age. */
  orphanAgeMs: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function positiveInteger(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`${name}='${raw}' must be a positive whole number`);
  }
  return value;
}

function optionalUrl(
  env: NodeJS.ProcessEnv,
  name: string,
  protocols: string[],
): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`${name} is not a URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${name} must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return raw;
}

/** A comma-separated list of host names, each maybe `*.`-prefixed, normalised as URLs do. */
function hostList(env: NodeJS.ProcessEnv, name: string): string[] {
  const entries = (env[name] ?? '').split(',').map((entry) => entry.trim());
  return entries.filter(Boolean).map((entry) => {
    const wildcard = entry.startsWith('*.');
    const bare = wildcard ? entry.slice(2) : entry;
    let url: URL | undefined;
    try {
      url = new URL(`https://${bare}/`);
    } catch {
      url = undefined;
    }
    if (
      !url ||
      url.host !== url.hostname ||
      url.href !== `https://${url.host}/` ||
      /\*/.test(bare)
    ) {
      throw new ConfigError(
        `${name}: '${entry}' is not a host name (list hosts such as models.example.com or *.example.com, without scheme, port or path)`,
      );
    }
    const host = url.hostname.replace(/\.$/, '');
    return wildcard ? `*.${host}` : host;
  });
}

function baseModelUrls(env: NodeJS.ProcessEnv): BaseModelUrlSettings {
  const d = BASE_DOWNLOAD_DEFAULTS;
  return {
    allowHosts: hostList(env, 'GRAFT_ALLOW_BASE_URLS'),
    maxFileBytes: positiveInteger(env, 'GRAFT_BASE_MAX_FILE_BYTES', d.maxFileBytes),
    maxModelBytes: positiveInteger(env, 'GRAFT_BASE_MAX_MODEL_BYTES', d.maxModelBytes),
    maxFiles: positiveInteger(env, 'GRAFT_BASE_MAX_FILES', d.maxFiles),
    timeoutMs: positiveInteger(env, 'GRAFT_BASE_DOWNLOAD_TIMEOUT_MS', d.timeoutMs),
    cacheBytes: positiveInteger(env, 'GRAFT_BASE_CACHE_BYTES', d.cacheBytes),
  };
}

function webhookSettings(env: NodeJS.ProcessEnv): WebhookSettings {
  const hosts = env.GRAFT_WEBHOOK_HOSTS?.trim() || '*';
  return {
    allowHosts: hosts === '*' ? ['*'] : hostList(env, 'GRAFT_WEBHOOK_HOSTS'),
    attempts: positiveInteger(env, 'GRAFT_WEBHOOK_ATTEMPTS', 8),
    backoffMs: positiveInteger(env, 'GRAFT_WEBHOOK_BACKOFF_MS', 10_000),
    timeoutMs: positiveInteger(env, 'GRAFT_WEBHOOK_TIMEOUT_MS', 10_000),
    maxPerTenant: positiveInteger(env, 'GRAFT_WEBHOOKS_PER_TENANT', 10),
    logDays: positiveInteger(env, 'GRAFT_WEBHOOK_LOG_DAYS', 30),
    disableAfter: positiveInteger(env, 'GRAFT_WEBHOOK_DISABLE_AFTER', 20),
    maxPending: positiveInteger(env, 'GRAFT_WEBHOOK_MAX_PENDING', 1000),
  };
}

/** GRAFT_QUOTA_*: the limits of a tenant without its own (see contracts/quotas.ts). */
function quotaDefaults(env: NodeJS.ProcessEnv): QuotaLimits {
  const q = (name: string, fallback: number) =>
    positiveInteger(env, `GRAFT_QUOTA_${name}`, fallback);
  return {
    datasets: q('DATASETS', 100),
    storedBytes: q('STORED_BYTES', 10 * 1024 ** 3),
    // The server-wide image limit unless set apart.
    imagesPerDataset: q('IMAGES_PER_DATASET', positiveInteger(env, 'GRAFT_MAX_IMAGES', 50_000)),
    concurrentJobs: q('CONCURRENT_JOBS', 2),
    queuedJobs: q('QUEUED_JOBS', 20),
    epochsPerPhase: q('EPOCHS_PER_PHASE', 200),
    wallSeconds: q('WALL_SECONDS', 2 * 3600),
    models: q('MODELS', 100),
  };
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/**
 * `100/10s`: at most 100 requests per 10 seconds (units ms, s, m, h; `20/s` is per second).
 * Undefined when `raw` does not look like that.
 */
export function parseRateLimit(raw: string): RateLimit | undefined {
  const match = /^(\d+)\s*\/\s*(\d*)\s*(ms|s|m|h)$/.exec(raw.trim());
  if (!match) return undefined;
  const max = Number(match[1]);
  const windowMs = Number(match[2] || 1) * UNIT_MS[match[3] as keyof typeof UNIT_MS];
  return Number.isSafeInteger(max) && max >= 1 && Number.isSafeInteger(windowMs) && windowMs >= 1
    ? { max, windowMs }
    : undefined;
}

function rateLimit(env: NodeJS.ProcessEnv, name: string, fallback: RateLimit): RateLimit {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const limit = parseRateLimit(raw);
  if (!limit)
    throw new ConfigError(`${name}='${raw}' must look like 100/10s (requests per window)`);
  return limit;
}

function rateLimits(env: NodeJS.ProcessEnv): RateLimits | undefined {
  const enabled = env.GRAFT_RATE_LIMITS?.trim().toLowerCase() || 'on';
  if (enabled !== 'on' && enabled !== 'off') {
    throw new ConfigError(`GRAFT_RATE_LIMITS='${enabled}' must be on or off`);
  }
  if (enabled === 'off') return undefined;
  const limit = (c: RateClass) =>
    [c, rateLimit(env, `GRAFT_RATE_${c.toUpperCase()}`, RATE_LIMIT_DEFAULTS[c])] as const;
  return Object.fromEntries(RATE_CLASSES.map(limit)) as RateLimits;
}

function trustProxy(env: NodeJS.ProcessEnv): boolean | number | string[] {
  const raw = env.GRAFT_TRUST_PROXY?.trim();
  if (!raw || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d+$/.test(raw)) return Number(raw);
  const addresses = raw.split(',').map((part) => part.trim());
  if (addresses.some((address) => !/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(address))) {
    throw new ConfigError(
      `GRAFT_TRUST_PROXY='${raw}' must be true, false, a number of hops, or comma-separated addresses and CIDR ranges`,
    );
  }
  return addresses;
}

/** A limit where 0 turns the check off. */
function limitOrOff(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return env[name]?.trim() === '0' ? 0 : positiveInteger(env, name, fallback);
}

function admission(env: NodeJS.ProcessEnv): AdmissionSettings {
  // The cgroup's limit when there is one (a container), else the machine's memory.
  const cgroup = process.constrainedMemory?.() ?? 0;
  const memory = cgroup > 0 && cgroup < totalmem() ? cgroup : totalmem();
  return {
    idleTimeoutMs: positiveInteger(env, 'GRAFT_IDLE_TIMEOUT_MS', 60_000),
    requestTimeoutMs: positiveInteger(env, 'GRAFT_REQUEST_TIMEOUT_MS', 600_000),
    predictMaxInFlight: positiveInteger(env, 'GRAFT_PREDICT_MAX_IN_FLIGHT', 32),
    predictTimeoutMs: positiveInteger(env, 'GRAFT_PREDICT_TIMEOUT_MS', 30_000),
    inferenceMaxPending: positiveInteger(env, 'GRAFT_INFERENCE_MAX_PENDING', 128),
    decodeConcurrency: positiveInteger(env, 'GRAFT_DECODE_CONCURRENCY', 2 * availableParallelism()),
    maxEventLoopDelayMs: limitOrOff(env, 'GRAFT_MAX_EVENT_LOOP_DELAY_MS', 1000),
    maxHeapUsedBytes: limitOrOff(
      env,
      'GRAFT_MAX_HEAP_BYTES',
      Math.floor(0.9 * getHeapStatistics().heap_size_limit),
    ),
    maxRssBytes: limitOrOff(env, 'GRAFT_MAX_RSS_BYTES', Math.floor(0.9 * memory)),
  };
}

/**
 * The artifact store (GRAFT_STORAGE_URL): a folder, or a bucket and key prefix of an
 * S3-compatible service. S3 credentials are the SDK's own chain (AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY, AWS_PROFILE, a role), never read here.
 */
export type StorageSettings =
  | { kind: 'file'; root: string }
  | {
      kind: 's3';
      bucket: string;
      /** Keys are stored as `<prefix>/<key>`; '' for the bucket's top. */
      prefix: string;
      /** GRAFT_S3_FORCE_PATH_STYLE=true: `<endpoint>/<bucket>/<key>` URLs (MinIO, s3rver). */
      forcePathStyle: boolean;
      /** AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL; unset: AWS itself. */
      endpoint?: string;
      /** AWS_REGION; unset: the SDK's profile, or us-east-1 with an endpoint of its own. */
      region?: string;
    };

const S3_BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

function storageSettings(env: NodeJS.ProcessEnv, dataDir: string): StorageSettings {
  const raw = env.GRAFT_STORAGE_URL?.trim();
  if (!raw) return { kind: 'file', root: resolve(dataDir, 'artifacts') };
  const bad = (why: string) =>
    new ConfigError(
      `GRAFT_STORAGE_URL='${raw}' ${why} (give a folder, file:///absolute/path or s3://bucket/optional/prefix)`,
    );
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return { kind: 'file', root: resolve(raw) };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw bad('is not a URL');
  }
  if (url.protocol === 'file:') {
    try {
      return { kind: 'file', root: resolve(fileURLToPath(url)) };
    } catch {
      throw bad('is not a local file URL');
    }
  }
  if (url.protocol !== 's3:') throw bad(`has an unknown scheme ${url.protocol}`);
  if (url.username || url.password || url.port || url.search || url.hash) {
    throw bad('may hold only a bucket and a key prefix');
  }
  if (!S3_BUCKET.test(url.hostname)) {
    throw bad('needs a bucket name: 3-63 lowercase letters, digits, dots and hyphens');
  }
  let parts: string[];
  try {
    parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw bad('has a malformed %-escape in its prefix');
  }
  if (parts.some((part) => part === '.' || part === '..')) throw bad('has . or .. in its prefix');
  const style = env.GRAFT_S3_FORCE_PATH_STYLE?.trim().toLowerCase() || 'false';
  if (style !== 'true' && style !== 'false') {
    throw new ConfigError(`GRAFT_S3_FORCE_PATH_STYLE='${style}' must be true or false`);
  }
  const endpointVariable = env.AWS_ENDPOINT_URL_S3?.trim()
    ? 'AWS_ENDPOINT_URL_S3'
    : 'AWS_ENDPOINT_URL';
  const endpoint = optionalUrl(env, endpointVariable, ['http:', 'https:']);
  const region = env.AWS_REGION?.trim();
  return {
    kind: 's3',
    bucket: url.hostname,
    prefix: parts.join('/'),
    forcePathStyle: style === 'true',
    ...(endpoint ? { endpoint } : {}),
    ...(region ? { region } : {}),
  };
}

function engineSettings(env: NodeJS.ProcessEnv): EngineSettings {
  const onnx = env.GRAFT_ONNX?.trim() || 'auto';
  if (onnx !== 'auto' && onnx !== 'off') {
    throw new ConfigError(`GRAFT_ONNX='${onnx}' is not one of: auto, off`);
  }
  const cores = availableParallelism();
  const cacheBytes = env.GRAFT_EMBEDDING_CACHE_BYTES?.trim();
  return {
    onnx,
    onnxThreads: positiveInteger(env, 'GRAFT_ONNX_THREADS', cores),
    extractThreads: positiveInteger(env, 'GRAFT_EXTRACT_THREADS', cores),
    embeddingCacheBytes:
      cacheBytes === '0' ? 0 : positiveInteger(env, 'GRAFT_EMBEDDING_CACHE_BYTES', 2 * 1024 ** 3),
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const backend = env.GRAFT_TFJS_BACKEND?.trim() || undefined;
  if (backend !== undefined && !isBackendName(backend)) {
    throw new ConfigError(
      `GRAFT_TFJS_BACKEND='${backend}' is not one of: ${BACKEND_ORDER.join(', ')}`,
    );
  }
  const dataDir = resolve(env.GRAFT_DATA_DIR?.trim() || './data');
  const mirror = env.GRAFT_MODEL_MIRROR?.trim();
  const databaseUrl = optionalUrl(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  const redisUrl = optionalUrl(env, 'REDIS_URL', ['redis:', 'rediss:']);
  return {
    ...(backend !== undefined ? { tfjsBackend: backend } : {}),
    ...(mirror ? { modelMirror: resolve(mirror) } : {}),
    ...(databaseUrl ? { databaseUrl } : {}),
    ...(redisUrl ? { redisUrl } : {}),
    dataDir,
    modelCacheDir: resolve(dataDir, 'model-cache'),
    storage: storageSettings(env, dataDir),
    host: env.HOST?.trim() || '127.0.0.1',
    port: positiveInteger(env, 'PORT', 3000),
    logLevel: env.LOG_LEVEL?.trim() || 'info',
    maxUploadBytes: positiveInteger(env, 'GRAFT_MAX_UPLOAD_BYTES', 2 * 1024 ** 3),
    maxImagesPerDataset: positiveInteger(env, 'GRAFT_MAX_IMAGES', 50_000),
    minImagesPerClass: positiveInteger(env, 'GRAFT_MIN_IMAGES_PER_CLASS', 2),
    workerConcurrency: positiveInteger(env, 'GRAFT_WORKER_CONCURRENCY', 1),
    queueName: env.GRAFT_QUEUE?.trim() || 'graft-training',
    inferenceCacheBytes: positiveInteger(env, 'GRAFT_INFERENCE_CACHE_BYTES', 512 * 1024 ** 2),
    modelFileCacheBytes: positiveInteger(env, 'GRAFT_MODEL_CACHE_BYTES', 512 * 1024 ** 2),
    inferenceMaxBatch: positiveInteger(env, 'GRAFT_INFERENCE_MAX_BATCH', 32),
    quotas: quotaDefaults(env),
    baseModelUrls: baseModelUrls(env),
    webhooks: webhookSettings(env),
    rateLimits: rateLimits(env),
    admission: admission(env),
    trustProxy: trustProxy(env),
    metrics: metricsSettings(env),
    engines: engineSettings(env),
    jobEventsTtlHours: positiveInteger(env, 'GRAFT_JOB_EVENTS_TTL_HOURS', 7 * 24),
    recovery: {
      lockMs: positiveInteger(env, 'GRAFT_WORKER_LOCK_MS', 6_000),
      stalledIntervalMs: positiveInteger(env, 'GRAFT_WORKER_STALLED_INTERVAL_MS', 3_000),
      maxStalls: positiveInteger(env, 'GRAFT_WORKER_MAX_STALLS', 5),
      drainTimeoutMs: positiveInteger(env, 'GRAFT_DRAIN_TIMEOUT_MS', 10_000),
      reaperIntervalMs: positiveInteger(env, 'GRAFT_REAPER_INTERVAL_MS', 15_000),
      orphanAgeMs: positiveInteger(env, 'GRAFT_ORPHAN_AGE_MS', 3_600_000),
    },
  };
}
