/**
 * The inference thread: owns tfjs, an LRU cache of loaded models bounded by weight bytes, and
 * a queue per model whose pending requests are run as one batch. The API's event loop only
 * decodes images (sharp, off-thread too) and passes pixels here. It reads no files: a model it
 * does not hold is asked of the API thread, which reads it through the artifact store (and its
 * local file cache) and transfers the bytes.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import type { BackendName } from '../config/config.js';
import { selectBackend } from '../tfjs/tfjs-backend.js';
import { disposeModelWeights, freezeBatchNorm, pixelsToBatch } from '../training/trained-model.js';
import type { FromInference, ModelRef, ToInference } from './inference-protocol.js';

interface Options {
  cacheBytes: number;
  maxBatch: number;
  backend?: BackendName;
}

interface Loaded {
  model: tf.LayersModel;
  bytes: number;
  lastUsed: number;
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
/** Model files asked of the API thread, by fetch id. */
const fetching = new Map<
  number,
  { resolve: (artifacts: tf.io.ModelArtifacts) => void; reject: (error: Error) => void }
>();
let nextFetch = 1;

const send = (message: FromInference) => port.postMessage(message);

function fetchModel(model: ModelRef): Promise<tf.io.ModelArtifacts> {
  const fetchId = nextFetch++;
  return new Promise((resolve, reject) => {
    fetching.set(fetchId, { resolve, reject });
    send({ type: 'fetch', fetchId, model });
  });
}

function evict(modelId: string, reason: 'budget' | 'deleted'): void {
  const entry = cache.get(modelId);
  if (!entry) return;
  cache.delete(modelId);
  disposeModelWeights(entry.model);
  send({ type: 'evicted', reason });
}

/** Keeps the cache under its byte budget, dropping the least recently used models first. */
function enforceBudget(keep: string): void {
  let total = [...cache.values()].reduce((sum, entry) => sum + entry.bytes, 0);
  const byAge = [...cache.entries()].sort(([, a], [, b]) => a.lastUsed - b.lastUsed);
  for (const [id, entry] of byAge) {
    if (total <= options.cacheBytes) break;
    if (id === keep) continue;
    evict(id, 'budget');
    total -= entry.bytes;
  }
}

async function load(ref: ModelRef): Promise<Loaded> {
  const cached = cache.get(ref.id);
  if (cached) return cached;
  const inFlight = loading.get(ref.id);
  if (inFlight) return inFlight;
  const promise = (async () => {
    const artifacts = await fetchModel(ref);
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    try {
      // Same math as stock BatchNormalization at inference, and faster on wasm.
      freezeBatchNorm(model);
      const size = ref.preprocessing.size;
      const zeros = tf.zeros([1, size, size, 3]);
      const warmUp = model.predict(zeros) as tf.Tensor;
      warmUp.dataSync();
      tf.dispose([zeros, warmUp]);
    } catch (error) {
      disposeModelWeights(model);
      throw error;
    }
    const bytes = artifacts.weightData instanceof ArrayBuffer ? artifacts.weightData.byteLength : 0;
    const entry: Loaded = { model, bytes, lastUsed: Date.now() };
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
    const input = pixelsToBatch(
      batch.flatMap((request) => request.images),
      ref.preprocessing,
    );
    let output: tf.Tensor;
    try {
      output = entry.model.predict(input) as tf.Tensor;
    } finally {
      input.dispose();
    }
    const values = output.dataSync() as Float32Array;
    const classes = output.shape[1]!;
    output.dispose();
    const seconds = (performance.now() - started) / 1000;
    send({ type: 'batch', images: values.length / classes, seconds, cacheHit });
    let row = 0;
    for (const request of batch) {
      const probabilities = request.images.map(() => values.slice(row * classes, ++row * classes));
      send({ type: 'result', requestId: request.requestId, probabilities });
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
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

port.on('message', (message: ToInference) => {
  if (message.type === 'model') {
    const waiting = fetching.get(message.fetchId);
    fetching.delete(message.fetchId);
    if ('error' in message) waiting?.reject(new Error(message.error));
    else waiting?.resolve(message.artifacts);
    return;
  }
  if (message.type === 'evict') return evict(message.modelId, 'deleted');
  if (message.type === 'cancel') {
    // Its caller gave up: drop it if it has not started; a running batch just finishes.
    const index = queue.findIndex((pending) => pending.requestId === message.requestId);
    if (index >= 0) queue.splice(index, 1);
    return;
  }
  if (message.type === 'stats') {
    const models = [...cache.entries()].map(([id, entry]) => ({ id, bytes: entry.bytes }));
    return send({ type: 'stats', requestId: message.requestId, models });
  }
  queue.push({ requestId: message.requestId, model: message.model, images: message.images });
  void drain();
});

const backend = await selectBackend(options.backend);
send({ type: 'ready', backend: backend.name });
