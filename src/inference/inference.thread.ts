/**
 * The inference thread: owns tfjs, an LRU cache of loaded models bounded by bytes (and by
 * MAX_SESSIONS ONNX Runtime sessions), and one queue whose pending requests for a model are run
 * as one batch; conversions for export wait their turn in it too. Each model runs on ONNX
 * Runtime where it can (serving-model.ts), else on tfjs. The API's event loop only
 * decodes images (sharp, off-thread too) and passes pixels here. It reads no files: a model it
 * does not hold is asked of the API thread, which reads it through the artifact store (and its
 * local file cache) and transfers the bytes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { BackendName } from '../config/config.js';
import { OnnxConversionError } from '../onnx/layers-to-onnx.js';
import { loadOnnxRuntime } from '../onnx/onnx-runtime.js';
import { selectBackend } from '../tfjs/tfjs-backend.js';
import type { FromInference, ModelFiles, ModelRef, ToInference } from './inference-protocol.js';
import {
  convertToOnnx,
  loadServingModel,
  type EngineChoice,
  type ServingModel,
} from './serving-model.js';

interface Options {
  cacheBytes: number;
  maxBatch: number;
  backend?: BackendName;
  /** GRAFT_ONNX and GRAFT_ONNX_THREADS. */
  onnx: 'auto' | 'off';
  onnxThreads: number;
}

interface Loaded {
  model: ServingModel;
  lastUsed: number;
  /** Batches running through it now; a model evicted meanwhile is released after them. */
  running: number;
  evicted: boolean;
}

type Pending =
  | { kind: 'predict'; requestId: number; model: ModelRef; images: Uint8Array[] }
  | { kind: 'convert'; requestId: number; model: ModelRef };
type Prediction = Extract<Pending, { kind: 'predict' }>;

/**
 * Most ONNX Runtime sessions held at once. Each keeps its own intra-op pool (GRAFT_ONNX_THREADS
 * - 1 threads, asleep between its runs) besides its memory, and only one batch runs at a time:
 * past this many, the least recently used goes even when the byte budget has room.
 */
const MAX_SESSIONS = 16;
/** Models remembered as failing on ONNX Runtime (served on tfjs), oldest forgotten first. */
const MAX_ONNX_FAILED = 1000;

const options = workerData as Options;
const port = parentPort!;
const cache = new Map<string, Loaded>();
const loading = new Map<string, Promise<Loaded>>();
const queue: Pending[] = [];
let busy = false;
let engines: EngineChoice = { onnx: false, threads: options.onnxThreads };
/** Models whose ONNX Runtime session failed a batch, and why: they load on tfjs from then on. */
const onnxFailed = new Map<string, string>();
/** Model files asked of the API thread, by fetch id. */
const fetching = new Map<
  number,
  { resolve: (files: ModelFiles) => void; reject: (error: Error) => void }
>();
let nextFetch = 1;

const send = (message: FromInference, transfer: ArrayBuffer[] = []) =>
  port.postMessage(message, transfer);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function fetchModel(model: ModelRef): Promise<ModelFiles> {
  const fetchId = nextFetch++;
  return new Promise((resolve, reject) => {
    fetching.set(fetchId, { resolve, reject });
    send({ type: 'fetch', fetchId, model });
  });
}

function release(entry: Loaded): void {
  // Nothing waits on it, and a model that fails to free itself has nothing left to serve.
  void entry.model.release().catch(() => undefined);
}

/** Takes a model out of the cache; it is freed now, or after the batch running through it. */
function drop(modelId: string): boolean {
  const entry = cache.get(modelId);
  if (!entry) return false;
  cache.delete(modelId);
  entry.evicted = true;
  // An ONNX Runtime session must not be freed under a batch it is running.
  if (entry.running === 0) release(entry);
  return true;
}

function evict(modelId: string, reason: 'budget' | 'deleted'): void {
  if (drop(modelId)) send({ type: 'evicted', reason });
}

const onOnnx = (entry: Loaded) => entry.model.engine === 'onnxruntime';

/**
 * Keeps the cache under its byte budget and its session cap, dropping the least recently used
 * models first (only sessions when it is the cap that is exceeded).
 */
function enforceBudget(keep: string): void {
  const held = [...cache.values()];
  let total = held.reduce((sum, entry) => sum + entry.model.bytes, 0);
  let sessions = held.filter(onOnnx).length;
  const byAge = [...cache.entries()].sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
  for (const [id, entry] of byAge) {
    const overBytes = total > options.cacheBytes;
    if (!overBytes && sessions <= MAX_SESSIONS) break;
    if (id === keep || (!overBytes && !onOnnx(entry))) continue;
    evict(id, 'budget');
    total -= entry.model.bytes;
    if (onOnnx(entry)) sessions--;
  }
}

async function load(ref: ModelRef): Promise<Loaded> {
  const cached = cache.get(ref.id);
  if (cached) return cached;
  const inFlight = loading.get(ref.id);
  if (inFlight) return inFlight;
  const promise = (async () => {
    const files = await fetchModel(ref);
    const failed = onnxFailed.get(ref.id);
    const choice = failed ? { ...engines, onnxFailed: failed } : engines;
    const model = await loadServingModel(files, ref.preprocessing, choice);
    const { engine, bytes, onnxGraph, fallback } = model;
    send({ type: 'loaded', model: { id: ref.id, engine, bytes, onnxGraph, fallback } });
    const entry: Loaded = { model, lastUsed: Date.now(), running: 0, evicted: false };
    cache.set(ref.id, entry);
    enforceBudget(ref.id);
    return entry;
  })().finally(() => loading.delete(ref.id));
  loading.set(ref.id, promise);
  return promise;
}

/** `first` and every other pending prediction for the same model, up to maxBatch images. */
function batchWith(first: Prediction): Prediction[] {
  const batch = [first];
  let images = first.images.length;
  for (let i = 0; i < queue.length && images < options.maxBatch;) {
    const candidate = queue[i]!;
    if (
      candidate.kind === 'predict' &&
      candidate.model.id === first.model.id &&
      images + candidate.images.length <= options.maxBatch
    ) {
      batch.push(candidate);
      images += candidate.images.length;
      queue.splice(i, 1);
    } else i++;
  }
  return batch;
}

async function predictOn(entry: Loaded, images: Uint8Array[]) {
  entry.lastUsed = Date.now();
  entry.running++;
  try {
    return await entry.model.predict(images);
  } finally {
    if (--entry.running === 0 && entry.evicted) release(entry);
  }
}

/**
 * A model whose ONNX Runtime session failed a batch: its session is let go and the model loaded
 * again on tfjs, which it stays on (the API logs why, once, from the `loaded` message).
 */
async function offOnnx(ref: ModelRef, error: unknown): Promise<Loaded> {
  if (onnxFailed.size >= MAX_ONNX_FAILED) onnxFailed.delete(onnxFailed.keys().next().value!);
  onnxFailed.set(ref.id, `ONNX Runtime failed a batch: ${messageOf(error)}`);
  drop(ref.id);
  return load(ref);
}

async function run(batch: Prediction[]): Promise<void> {
  try {
    const ref = batch[0]!.model;
    const cacheHit = cache.has(ref.id);
    let entry = await load(ref);
    const images = batch.flatMap((request) => request.images);
    const started = performance.now();
    let output: { values: Float32Array; classes: number };
    try {
      output = await predictOn(entry, images);
    } catch (error) {
      if (!onOnnx(entry)) throw error;
      entry = await offOnnx(ref, error);
      output = await predictOn(entry, images);
    }
    const { values, classes } = output;
    const seconds = (performance.now() - started) / 1000;
    send({ type: 'batch', images: images.length, seconds, cacheHit, engine: entry.model.engine });
    let row = 0;
    for (const request of batch) {
      const probabilities = request.images.map(() => values.slice(row * classes, ++row * classes));
      send({ type: 'result', requestId: request.requestId, probabilities });
    }
  } catch (error) {
    const message = messageOf(error);
    for (const request of batch) send({ type: 'error', requestId: request.requestId, message });
  }
}

/** The model as an ONNX graph, for export (the API stores it beside the model). */
async function convert(requestId: number, ref: ModelRef): Promise<void> {
  try {
    const { bytes } = await convertToOnnx((await fetchModel(ref)).artifacts);
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    const owned = whole ? bytes : bytes.slice();
    send({ type: 'onnx', requestId, bytes: owned }, [owned.buffer as ArrayBuffer]);
  } catch (error) {
    const conversion = error instanceof OnnxConversionError ? true : undefined;
    send({ type: 'error', requestId, message: messageOf(error), conversion });
  }
}

async function drain(): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    while (queue.length > 0) {
      const first = queue.shift()!;
      if (first.kind === 'convert') await convert(first.requestId, first.model);
      else await run(batchWith(first));
      // Let requests that arrived meanwhile join the next batch.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    busy = false;
  }
}

port.on('message', (message: ToInference) => {
  switch (message.type) {
    case 'model': {
      const waiting = fetching.get(message.fetchId);
      fetching.delete(message.fetchId);
      if ('error' in message) waiting?.reject(new Error(message.error));
      else waiting?.resolve(message.files);
      return;
    }
    case 'evict':
      onnxFailed.delete(message.modelId);
      return evict(message.modelId, 'deleted');
    case 'cancel': {
      // Its caller gave up: drop it if it has not started; a running one just finishes.
      const index = queue.findIndex((pending) => pending.requestId === message.requestId);
      if (index >= 0) queue.splice(index, 1);
      return;
    }
    case 'stats': {
      const models = [...cache.entries()].map(([id, { model }]) => {
        const { bytes, engine, onnxGraph, fallback } = model;
        return { id, bytes, engine, onnxGraph, fallback };
      });
      return send({ type: 'stats', requestId: message.requestId, models });
    }
    case 'convert':
      queue.push({ kind: 'convert', requestId: message.requestId, model: message.model });
      return void drain();
    case 'predict': {
      const { requestId, model, images } = message;
      // Refused here, so that a wrong request can never pass for a failing ONNX Runtime session.
      const size = model.preprocessing.size ** 2 * 3;
      const wrong = images.findIndex((image) => image.length !== size);
      if (wrong >= 0) {
        const problem = `image ${wrong} has ${images[wrong]!.length} bytes, expected ${size}`;
        return send({ type: 'error', requestId, message: problem });
      }
      queue.push({ kind: 'predict', requestId, model, images });
      return void drain();
    }
  }
});

const backend = await selectBackend(options.backend);
// tfjs-node-gpu keeps the GPU path; on CPU backends ONNX Runtime serves where it loads.
const wanted = options.onnx === 'auto' && backend.name !== 'tensorflow-gpu';
const runtime = wanted ? await loadOnnxRuntime() : undefined;
const unavailable = runtime && 'reason' in runtime ? runtime.reason : undefined;
engines = { onnx: wanted && !unavailable, threads: options.onnxThreads };
send({ type: 'ready', backend: backend.name, onnx: engines.onnx, unavailable });
