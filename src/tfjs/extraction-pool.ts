import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { compiledModulePath } from '../config/compiled-path.js';
import type { BackendName } from '../config/config.js';
import type { FrozenPartRunner } from '../training/training-types.js';

/*
 * tfjs's wasm backend runs one thread per instance in Node, so in-process extraction keeps one
 * core busy. Separate worker threads, each with its own wasm instance, run side by side: the
 * pool splits every batch into contiguous slices, one per thread, and joins the rows back in
 * input order. This is the fallback where ONNX Runtime cannot run the extractor.
 */

/** What each thread starts with. */
export interface ExtractionThreadData {
  artifacts: tf.io.ModelArtifacts;
  backend: BackendName;
}

/** Messages between the pool and its threads. */
export interface ToExtraction {
  type: 'run';
  id: number;
  input: Float32Array;
  batch: number;
}

export type FromExtraction =
  | { type: 'ready'; backend: BackendName }
  | { type: 'failed'; message: string }
  | { type: 'result'; id: number; outputs: Float32Array[] }
  | { type: 'error'; id: number; message: string };

export interface ExtractionPoolOptions {
  threads: number;
  /** The tfjs backend each thread forces (the one the parent uses); default wasm. */
  backend?: BackendName;
}

interface Waiting {
  resolve: (outputs: Float32Array[]) => void;
  reject: (error: Error) => void;
}

/** One worker thread and its requests in flight. */
class ExtractionThread {
  readonly ready: Promise<BackendName>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Waiting>();
  private started?: { resolve: (backend: BackendName) => void; reject: (error: Error) => void };
  private closed = false;

  constructor(
    readonly index: number,
    data: ExtractionThreadData,
    private readonly onDeath: (error: Error) => void,
  ) {
    this.ready = new Promise((resolve, reject) => (this.started = { resolve, reject }));
    this.worker = new Worker(compiledModulePath('tfjs/extraction.thread.js'), { workerData: data });
    this.worker.on('message', (message: FromExtraction) => this.receive(message));
    this.worker.on('error', (error) => this.died(error.message));
    this.worker.on('exit', (code) => this.died(`exited with code ${code}`));
  }

  private receive(message: FromExtraction): void {
    if (message.type === 'ready') {
      // Idle, it must not keep the process alive (a pool nobody disposed).
      this.worker.unref();
      return this.started?.resolve(message.backend);
    }
    if (message.type === 'failed') return this.started?.reject(new Error(message.message));
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    this.pending.delete(message.id);
    if (this.pending.size === 0) this.worker.unref();
    if (message.type === 'result') waiting.resolve(message.outputs);
    else waiting.reject(new Error(message.message));
  }

  /** 'error' and 'exit' both arrive for one crash: the first one counts. */
  private died(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const error = new Error(`extraction thread ${this.index} died: ${reason}`);
    this.started?.reject(error);
    this.rejectPending(error);
    this.onDeath(error);
  }

  request(id: number, input: Float32Array, batch: number): Promise<Float32Array[]> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      const message: ToExtraction = { type: 'run', id, input, batch };
      this.worker.postMessage(message, [input.buffer as ArrayBuffer]);
    });
  }

  rejectPending(error: Error): void {
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  async terminate(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.terminate();
  }
}

/** `batch` rows cut into at most `parts` contiguous slices, sizes differing by at most one. */
export function splitRows(batch: number, parts: number): { start: number; count: number }[] {
  const used = Math.min(parts, batch);
  const slices: { start: number; count: number }[] = [];
  let start = 0;
  for (let i = 0; i < used; i++) {
    const count = Math.floor(batch / used) + (i < batch % used ? 1 : 0);
    slices.push({ start, count });
    start += count;
  }
  return slices;
}

/** Per output, the slices' rows one after another. */
function joinRows(parts: Float32Array[][]): Float32Array[] {
  if (parts.length === 1) return parts[0]!;
  return parts[0]!.map((_, o) => {
    const joined = new Float32Array(parts.reduce((n, outputs) => n + outputs[o]!.length, 0));
    let offset = 0;
    for (const outputs of parts) {
      joined.set(outputs[o]!, offset);
      offset += outputs[o]!.length;
    }
    return joined;
  });
}

class ExtractionPool implements FrozenPartRunner {
  readonly engine: string;
  private unusable?: Error;
  private nextId = 1;

  constructor(
    private readonly threads: ExtractionThread[],
    backend: BackendName,
  ) {
    const n = threads.length;
    this.engine = `${backend} (${n} worker thread${n === 1 ? '' : 's'})`;
  }

  /** A dead thread leaves the pool unusable: its other runs fail, its threads end. */
  broken(error: Error): void {
    if (this.unusable) return;
    this.unusable = error;
    for (const thread of this.threads) thread.rejectPending(error);
    void Promise.all(this.threads.map((thread) => thread.terminate()));
  }

  async run(input: Float32Array, batch: number): Promise<Float32Array[]> {
    if (this.unusable) {
      throw new Error(`the extraction pool is unusable: ${this.unusable.message}`);
    }
    if (!Number.isInteger(batch) || batch < 1 || input.length % batch !== 0) {
      throw new Error(`input of ${input.length} values cannot hold ${batch} equal images`);
    }
    const perImage = input.length / batch;
    const parts = await Promise.all(
      splitRows(batch, this.threads.length).map(({ start, count }, i) =>
        // A copy the thread takes over: the caller's input stays intact.
        this.threads[i]!.request(
          this.nextId++,
          input.slice(start * perImage, (start + count) * perImage),
          count,
        ),
      ),
    );
    return joinRows(parts);
  }

  async dispose(): Promise<void> {
    this.unusable ??= new Error('it was disposed');
    const error = new Error('the extraction pool was disposed');
    for (const thread of this.threads) thread.rejectPending(error);
    await Promise.all(this.threads.map((thread) => thread.terminate()));
  }
}

/** The extractor's topology and weights, in memory. */
async function serialise(extractor: tf.LayersModel): Promise<tf.io.ModelArtifacts> {
  let saved: tf.io.ModelArtifacts | undefined;
  await extractor.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return saved!;
}

/**
 * Runs the extractor on `threads` worker threads, each with its own tfjs and its own wasm
 * instance (so each also has its own 4 GB wasm memory), loaded from one in-memory copy of the
 * extractor. Every thread holds a copy of the weights (MobileNetV2 1.0: ~14 MB each).
 * Resolves once every thread has loaded and warmed up the model; if one cannot, all are
 * ended and this rejects with its reason.
 */
export async function createExtractionPool(
  extractor: tf.LayersModel,
  options: ExtractionPoolOptions,
): Promise<FrozenPartRunner> {
  const data: ExtractionThreadData = {
    artifacts: await serialise(extractor),
    backend: options.backend ?? 'wasm',
  };
  let pool: ExtractionPool | undefined;
  const count = Math.max(1, Math.floor(options.threads));
  const threads = Array.from(
    { length: count },
    (_, i) => new ExtractionThread(i, data, (error) => pool?.broken(error)),
  );
  try {
    const [backend] = await Promise.all(threads.map((thread) => thread.ready));
    pool = new ExtractionPool(threads, backend!);
    return pool;
  } catch (error) {
    await Promise.all(threads.map((thread) => thread.terminate()));
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`extraction threads could not start: ${reason}`);
  }
}

/**
 * The runner for the training core's frozen part: undefined for one thread (the core then
 * runs tfjs in its own process, with no copy of the model), a pool of threads otherwise.
 */
export async function extractionRunner(
  extractor: tf.LayersModel,
  options: ExtractionPoolOptions,
): Promise<FrozenPartRunner | undefined> {
  if (options.threads <= 1) return undefined;
  return createExtractionPool(extractor, options);
}
