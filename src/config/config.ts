import { resolve } from 'node:path';

/** The tfjs backends Graft can train on, best first (src/tfjs starts them). */
export const BACKEND_ORDER = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendName = (typeof BACKEND_ORDER)[number];

export function isBackendName(value: string): value is BackendName {
  return (BACKEND_ORDER as readonly string[]).includes(value);
}

/** Where an API replica or a worker connects when DATABASE_URL / REDIS_URL are unset. */
export const DEFAULT_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/graft';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Every setting Graft reads from the environment, parsed once (this is the only reader). */
export interface Config {
  /** Forces a tfjs backend instead of picking the best one present. */
  tfjsBackend?: BackendName;
  /** Folder with local copies of catalog bases (`<mirrorName>/model.json`). */
  modelMirror?: string;
  dataDir: string;
  modelCacheDir: string;
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
  /** Most images one prediction batch runs through a model. */
  inferenceMaxBatch: number;
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
    host: env.HOST?.trim() || '127.0.0.1',
    port: positiveInteger(env, 'PORT', 3000),
    logLevel: env.LOG_LEVEL?.trim() || 'info',
    maxUploadBytes: positiveInteger(env, 'GRAFT_MAX_UPLOAD_BYTES', 2 * 1024 ** 3),
    maxImagesPerDataset: positiveInteger(env, 'GRAFT_MAX_IMAGES', 50_000),
    minImagesPerClass: positiveInteger(env, 'GRAFT_MIN_IMAGES_PER_CLASS', 2),
    workerConcurrency: positiveInteger(env, 'GRAFT_WORKER_CONCURRENCY', 1),
    queueName: env.GRAFT_QUEUE?.trim() || 'graft-training',
    inferenceCacheBytes: positiveInteger(env, 'GRAFT_INFERENCE_CACHE_BYTES', 512 * 1024 ** 2),
    inferenceMaxBatch: positiveInteger(env, 'GRAFT_INFERENCE_MAX_BATCH', 32),
  };
}
