import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { compiledModulePath } from '../config/compiled-path.js';
import type { Config } from '../config/config.js';
import { defaultLogger, type Logger } from '../observability/logger.js';
import { OnnxConversionError } from '../onnx/layers-to-onnx.js';
import type { ModelRunner, OnnxConverter } from '../services/model-runner.js';
import { busy } from '../services/predictions.service.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { ModelFileCache } from '../storage/model-file-cache.js';
import { observeThread, timedRequest } from './inference-metrics.js';
import type { FromInference, HeldModel, ModelRef, ToInference } from './inference-protocol.js';

export interface InferenceOptions {
  /**
   * Loaded models are evicted, least recently used first, above this many bytes: tfjs weights,
   * or an ONNX Runtime session's estimate (serving-model.ts).
   */
  cacheBytes: number;
  /** Most images run through a model in one batch. */
  maxBatch: number;
  /**
   * Most images waiting for or in the thread (an ONNX conversion counts as `maxBatch`); a
   * request that would go over answers 503 (one request alone always gets in). Default 128.
   */
  maxPending?: number;
  /** Where the thread's engine choices are told (a model left on tfjs is a warning). */
  logger?: Logger;
}

/** Models remembered as not convertible to ONNX, oldest forgotten first. */
const MAX_NOT_CONVERTIBLE = 1000;

interface Waiting {
  resolve: (value: never) => void;
  reject: (e: Error) => void;
}

/**
 * Runs predictions on a worker thread so tensors never block the API's event loop. If the
 * thread dies, pending requests fail and the next request starts a new one. Models come from
 * the artifact store, through a bounded local file cache (`<dataDir>/cache/models`,
 * GRAFT_MODEL_CACHE_BYTES): no replica needs another's disk. Models run on ONNX Runtime where
 * they can (GRAFT_ONNX, README "Engines"), else on tfjs.
 */
export class InferenceService implements ModelRunner, OnnxConverter {
  private worker?: Worker;
  private ready?: Promise<void>;
  private nextId = 1;
  private readonly pending = new Map<number, Waiting>();
  private pendingImages = 0;
  private readonly files: ModelFileCache;
  /**
   * Models the converter refused, with its reason: a model's files never change and neither
   * does the converter within a process, so asking again would only cost the thread's time.
   */
  private readonly notConvertible = new Map<string, string>();

  constructor(
    private readonly config: Config,
    store: ArtifactStore,
    private readonly options: InferenceOptions = { cacheBytes: 512 * 1024 ** 2, maxBatch: 32 },
  ) {
    this.files = new ModelFileCache(
      store,
      join(config.dataDir, 'cache', 'models'),
      config.modelFileCacheBytes,
    );
  }

  private get logger(): Logger {
    return this.options.logger ?? defaultLogger();
  }

  /** Answers the thread's request for a model's files, read through the local file cache. */
  private sendModel(worker: Worker, fetchId: number, model: ModelRef): void {
    this.files.files(model.id, model.artifactKey).then(
      ({ artifacts, onnx: stored }) => {
        // Transferred, not copied: a view into a larger buffer is copied out first.
        const onnx =
          stored && (stored.byteOffset !== 0 || stored.byteLength !== stored.buffer.byteLength)
            ? stored.slice()
            : stored;
        const message: ToInference = { type: 'model', fetchId, files: { artifacts, onnx } };
        const { weightData } = artifacts;
        const transfer = weightData instanceof ArrayBuffer ? [weightData] : [];
        if (onnx) transfer.push(onnx.buffer as ArrayBuffer);
        worker.postMessage(message, transfer);
      },
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        const message: ToInference = {
          type: 'model',
          fetchId,
          error: `model ${model.id} could not be read from the store: ${reason}`,
        };
        worker.postMessage(message);
      },
    );
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(compiledModulePath('inference/inference.thread.js'), {
      workerData: {
        cacheBytes: this.options.cacheBytes,
        maxBatch: this.options.maxBatch,
        backend: this.config.tfjsBackend,
        onnx: this.config.engines.onnx,
        onnxThreads: this.config.engines.onnxThreads,
      },
    });
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      worker.on('message', (message: FromInference) => {
        if (message.type === 'ready') {
          if (message.unavailable)
            this.logger.warn(`predictions run on tfjs: ${message.unavailable}`);
          return resolve();
        }
        if (message.type === 'fetch') return this.sendModel(worker, message.fetchId, message.model);
        if (message.type === 'batch' || message.type === 'evicted') return observeThread(message);
        if (message.type === 'loaded') return this.told(message.model);
        const waiting = this.pending.get(message.requestId);
        if (!waiting) return;
        this.pending.delete(message.requestId);
        if (message.type === 'result') waiting.resolve(message.probabilities as never);
        else if (message.type === 'stats') waiting.resolve(message.models as never);
        else if (message.type === 'onnx') waiting.resolve(message.bytes as never);
        else if (message.conversion) waiting.reject(new OnnxConversionError(message.message));
        else waiting.reject(new Error(message.message));
      });
      const fail = (error: Error) => {
        reject(error);
        // 'error' and 'exit' both arrive for one crash; a replacement may already be running.
        if (this.worker !== worker) return;
        for (const waiting of this.pending.values()) waiting.reject(error);
        this.pending.clear();
        this.worker = undefined;
        this.ready = undefined;
      };
      worker.on('error', fail);
      worker.on(
        'exit',
        (code) => code !== 0 && fail(new Error(`inference thread exited with code ${code}`)),
      );
    });
    return this.ready;
  }

  /**
   * Sends one request to the inference thread and waits for its answer. When `signal` aborts,
   * the request leaves the thread's queue and rejects with the signal's reason.
   */
  private async call<T>(
    message: (requestId: number) => ToInference,
    transfer: ArrayBuffer[] = [],
    signal?: AbortSignal,
  ): Promise<T> {
    await this.start();
    signal?.throwIfAborted();
    const requestId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const cancel = () => {
        if (!this.pending.delete(requestId)) return;
        const message: ToInference = { type: 'cancel', requestId };
        this.worker?.postMessage(message);
        reject(signal!.reason as Error);
      };
      const settle =
        <A>(done: (value: A) => void) =>
        (value: A) => {
          signal?.removeEventListener('abort', cancel);
          done(value);
        };
      this.pending.set(requestId, { resolve: settle(resolve), reject: settle(reject) });
      signal?.addEventListener('abort', cancel, { once: true });
      this.worker!.postMessage(message(requestId), transfer);
    });
  }

  /**
   * Softmax scores per image, in order. Pixels are decoded RGB at the model's input size.
   * Refused with 503 when the thread already has `maxPending` images to get through.
   */
  async predict(
    model: ModelRef,
    images: Uint8Array[],
    signal?: AbortSignal,
  ): Promise<Float32Array[]> {
    const done = this.admit(images.length);
    // Transferred, not copied; a view into a shared buffer is copied first so nothing else detaches.
    const owned = images.map((image) =>
      image.byteOffset === 0 && image.byteLength === image.buffer.byteLength
        ? image
        : image.slice(),
    );
    try {
      return await timedRequest(() =>
        this.call<Float32Array[]>(
          (requestId) => ({ type: 'predict', requestId, model, images: owned }),
          owned.map((image) => image.buffer as ArrayBuffer),
          signal,
        ),
      );
    } finally {
      done();
    }
  }

  /** Counts `images` as pending until the returned function is called; 503 when full. */
  private admit(images: number): () => void {
    const most = this.options.maxPending ?? 128;
    if (this.pendingImages > 0 && this.pendingImages + images > most) {
      throw busy('the model runner has as many images queued as it takes');
    }
    this.pendingImages += images;
    return () => {
      this.pendingImages -= images;
    };
  }

  /** A model loaded on tfjs where ONNX Runtime was wanted: worth an operator's look. */
  private told(model: HeldModel): void {
    if (model.fallback)
      this.logger.warn(
        { modelId: model.id, engine: model.engine },
        `model ${model.id} runs on tfjs: ${model.fallback}`,
      );
  }

  /** Which models the inference thread holds, their bytes in memory, and their engines. */
  cachedModels(): Promise<HeldModel[]> {
    return this.call((requestId) => ({ type: 'stats', requestId }));
  }

  /**
   * The model converted to ONNX by the inference thread (which loads models anyway, and keeps
   * the API's event loop free), in turn with predictions and counted as a batch of them (503
   * when the thread is full). Rejects with OnnxConversionError when the converter refuses it,
   * at once for a model it refused before; when `signal` aborts before its turn, it is dropped.
   */
  async convertToOnnx(model: ModelRef, signal?: AbortSignal): Promise<Uint8Array> {
    const refused = this.notConvertible.get(model.id);
    if (refused !== undefined) throw new OnnxConversionError(refused);
    const done = this.admit(this.options.maxBatch);
    try {
      return await this.call<Uint8Array>(
        (requestId) => ({ type: 'convert', requestId, model }),
        [],
        signal,
      );
    } catch (error) {
      if (error instanceof OnnxConversionError) this.refused(model.id, error.message);
      throw error;
    } finally {
      done();
    }
  }

  private refused(modelId: string, reason: string): void {
    if (this.notConvertible.size >= MAX_NOT_CONVERTIBLE)
      this.notConvertible.delete(this.notConvertible.keys().next().value!);
    this.notConvertible.set(modelId, reason);
  }

  /** Drops a deleted model from the thread's memory and from this machine's file cache. */
  evict(modelId: string): void {
    this.notConvertible.delete(modelId);
    const message: ToInference = { type: 'evict', modelId };
    this.worker?.postMessage(message);
    void this.files.forget(modelId).catch(() => undefined);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.ready = undefined;
    await worker?.terminate();
  }
}
