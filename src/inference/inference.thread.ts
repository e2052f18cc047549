/**
 * The inference thread: owns tfjs, an LRU cache of loaded models bounded by weight bytes, and
 * a queue per model whose pending requests are run as one batch. Each model runs on ONNX
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

interface Pending {
  requestId: number;
  model: ModelRef;
  images: Uint8Array[];
}

const options = workerData as Options;
const port = parentPort!;
const cache = new Map<string, Loaded>();
const loading = new Map<string, Promise<Loaded>>();
const queue: Pending[] = [];
let busy = false;
let engines: EngineChoice = { onnx: false, threads: options.onnxThreads };
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

function evict(modelId: string, reason: 'budget' | 'deleted'): void {
  const entry = cache.get(modelId);
  if (!entry) return;
  cache.delete(modelId);
  entry.evicted = true;
  // An ONNX Runtime session must not be freed under a batch it is running.
  if (entry.running === 0) release(entry);
  send({ type: 'evicted', reason });
}

/** Keeps the cache under its byte budget, dropping the least recently used models first. */
function enforceBudget(keep: string): void {
  let total = [...cache.values()].reduce((sum, entry) => sum + entry.model.bytes, 0);
  const byAge = [...cache.entries()].sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
  for (const [id, entry] of byAge) {
    if (total <= options.cacheBytes) break;
    if (id === keep) continue;
    evict(id, 'budget');
    total -= entry.model.bytes;
  }
}

async function load(ref: ModelRef): Promise<Loaded> {
  const cached = cache.get(ref.id);
  if (cached) return cached;
  const inFlight = loading.get(ref.id);
  if (inFlight) return inFlight;
  const promise = (async () => {
    const files = await fetchModel(ref);
    const model = await loadServingModel(files, ref.preprocessing, engines);
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

/** Takes the oldest request and every other pending one for the same model, up to maxBatch images. */
function nextBatch(): Pending[] {
  const first = queue.shift()!;
  const batch = [first];
  let images = first.images.length;
  for (let i = 0; i < queue.length && images < options.maxBatch;) {
    const candidate = queue[i]!;
    if (
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

async function run(batch: Pending[]): Promise<void> {
  try {
    const ref = batch[0]!.model;
    const cacheHit = cache.has(ref.id);
    const entry = await load(ref);
    entry.lastUsed = Date.now();
    const started = performance.now();
    entry.running++;
    let output: { values: Float32Array; classes: number };
    try {
      output = await entry.model.predict(batch.flatMap((request) => request.images));
    } finally {
      if (--entry.running === 0 && entry.evicted) release(entry);
    }
    const { values, classes } = output;
    const seconds = (performance.now() - started) / 1000;
    const images = values.length / classes;
    send({ type: 'batch', images, seconds, cacheHit, engine: entry.model.engine });
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

async function drain(): Promise<void> {
  if (busy) return;
  busy = true;
  try {
    while (queue.length > 0) {
      await run(nextBatch());
      // Let requests that arrived meanwhile join the next batch.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    busy = false;
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
      return evict(message.modelId, 'deleted');
    case 'cancel': {
      // Its caller gave up: drop it if it has not started; a running batch just finishes.
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
      return void convert(message.requestId, message.model);
    case 'predict':
      queue.push({ requestId: message.requestId, model: message.model, images: message.images });
      return void drain();
  }
});

const backend = await selectBackend(options.backend);
// tfjs-node-gpu keeps the GPU path; on CPU backends ONNX Runtime serves where it loads.
const wanted = options.onnx === 'auto' && backend.name !== 'tensorflow-gpu';
const runtime = wanted ? await loadOnnxRuntime() : undefined;
const unavailable = runtime && 'reason' in runtime ? runtime.reason : undefined;
engines = { onnx: wanted && !unavailable, threads: options.onnxThreads };
send({ type: 'ready', backend: backend.name, onnx: engines.onnx, unavailable });
