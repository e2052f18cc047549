import * as tf from '@tensorflow/tfjs';
import type { Config } from '../config/config.js';
import type { TrainingSpec } from '../contracts/training-spec.js';
import { layersModelToOnnx } from '../onnx/layers-to-onnx.js';
import { BaseModelError, loadBaseModel } from '../storage/base-model-store.js';
import { baseModelDigest } from '../storage/embedding-cache.js';
import { decodeImage } from '../storage/image-decoder.js';
import type { FenceTestOptions } from '../storage/url-fence.js';
import { selectBackend, type BackendInfo } from '../tfjs/tfjs-backend.js';
import { DEFAULT_BASE_ID } from '../training/base-model-catalog.js';
import type { TrainingCheckpoints } from '../training/checkpoint-types.js';
import type { LabelledExample } from '../training/dataset-split.js';
import { disposeModelWeights } from '../training/model-surgery.js';
import type {
  EmbeddingCache,
  TrainingProgress,
  TrainingReport,
} from '../training/training-types.js';
import { StoreUnreadable } from '../training/training-types.js';
import { trainTransferModel } from '../training/transfer-training.js';
import { frozenPartEngine } from './frozen-engine.js';

export interface TransferRunOptions {
  spec: TrainingSpec;
  config: Config;
  examples: readonly LabelledExample[];
  /** One example's encoded image: its bytes, or a file path. */
  readImage: (key: string) => Promise<Buffer> | string;
  onProgress?: (progress: TrainingProgress) => void;
  signal?: AbortSignal;
  writeArtifact?: (name: string, data: Uint8Array | string) => Promise<void>;
  /** An earlier run's saved state, and where this run saves its own (resumable jobs). */
  checkpoints?: TrainingCheckpoints;
  /** The embedding cache for the base with this digest (the tenant's own), or none. */
  embeddingsFor?: (baseDigest: string) => EmbeddingCache | undefined;
  /** Told why a faster engine was passed over, or the model has no ONNX form (stderr if absent). */
  warn?: (message: string) => void;
}

export interface TransferRunResult {
  report: TrainingReport;
  backend: BackendInfo;
  /** Where the base model's weights were read from. */
  loadedFrom: string;
}

/**
 * Who named the base model: 'tenant' (a queued API job; the default) gets catalog ids and
 * allow-listed https URLs within the fence, 'operator' (`npm run train`) also local folders and
 * any http(s) URL. `fence` is for tests only.
 */
export interface BaseModelAccess {
  trust: 'tenant' | 'operator';
  fence?: FenceTestOptions;
}

async function loadBase(reference: string, config: Config, access: BaseModelAccess) {
  const { allowHosts, cacheBytes, ...limits } = config.baseModelUrls;
  try {
    return await loadBaseModel(reference, {
      mirrorDir: config.modelMirror,
      cacheDir: config.modelCacheDir,
      trust: access.trust,
      allowHosts,
      limits,
      cacheBytes,
      ...(access.fence ? { fence: access.fence } : {}),
    });
  } catch (error) {
    // The job's error tells the user what to fix; what the network said stays in this log.
    if (error instanceof BaseModelError && error.detail && access.trust === 'tenant') {
      console.warn(`graft: base model ${reference} could not be downloaded: ${error.detail}`);
    }
    throw error;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One image's bytes. A missing image is skipped by the core like an undecodable one; any other
 * failure to read it (the store throttling, timing out, unreachable) is tried again, then stops
 * the run: training on what happened to be readable would change the model without a word.
 */
export async function readStored(
  readImage: TransferRunOptions['readImage'],
  key: string,
): Promise<Buffer | string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await readImage(key);
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') throw error;
      if (attempt >= 3)
        throw new StoreUnreadable(
          `images could not be read from the artifact store (${(error as Error).name}); try again later`,
          error,
        );
      await sleep(500 * 2 ** (attempt - 1));
    }
  }
}

const toStderr = (message: string) => console.warn(`graft: ${message}`);

/**
 * The trained classifier as ONNX too (`model.onnx`, served by ONNX Runtime and exported with
 * ?format=onnx). A model that does not convert is still shipped: tfjs serves it.
 */
async function writeOnnx(
  classifier: tf.LayersModel,
  write: (name: string, data: Uint8Array | string) => Promise<void>,
  log: (message: string) => void,
): Promise<void> {
  let bytes: Uint8Array;
  try {
    bytes = layersModelToOnnx(classifier, { name: 'graft_classifier' }).bytes;
  } catch (error) {
    log(`the model has no ONNX form: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  await write('model.onnx', bytes);
}

/**
 * The I/O around the pure core, shared by `npm run train` and the queue worker: picks the
 * backend, loads the base, decodes images with the base's preprocessing, trains, and frees
 * every model it loaded (the trained one lives on in the written artifacts).
 */
export async function runTransfer(
  options: TransferRunOptions,
  access: BaseModelAccess = { trust: 'tenant' },
): Promise<TransferRunResult> {
  const backend = await selectBackend(options.config.tfjsBackend);
  const reference = options.spec.baseModel ?? DEFAULT_BASE_ID;
  const resolved = await loadBase(reference, options.config, access);
  const base = await tf.loadLayersModel(tf.io.fromMemory(resolved.artifacts));
  let classifier: tf.LayersModel | undefined;
  try {
    const trained = await trainTransferModel({
      base,
      entry: resolved.entry,
      examples: options.examples,
      loadPixels: async (key) =>
        decodeImage(await readStored(options.readImage, key), resolved.entry.preprocessing),
      spec: options.spec,
      backend: backend.name,
      onProgress: options.onProgress,
      signal: options.signal,
      writeArtifact: options.writeArtifact,
      checkpoints: options.checkpoints,
      embeddings: options.embeddingsFor?.(baseModelDigest(resolved.artifacts)),
      frozenRunner: frozenPartEngine(options.config, backend, options.warn ?? toStderr),
    });
    classifier = trained.classifier;
    if (options.writeArtifact)
      await writeOnnx(classifier, options.writeArtifact, options.warn ?? toStderr);
    return { report: trained.report, backend, loadedFrom: resolved.loadedFrom };
  } finally {
    disposeModelWeights(...(classifier ? [classifier, base] : [base]));
  }
}
