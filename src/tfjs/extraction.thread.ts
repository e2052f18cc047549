/**
 * One extraction thread: its own tfjs and wasm instance running a copy of the extractor, so
 * that several threads work on one batch at once (tfjs's wasm runs single-threaded in Node).
 * It reads no files: the model arrives in workerData, images come in and outputs go back as
 * transferred Float32Arrays. Requests are answered one at a time, in the order they arrive.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { predictArrays } from '../training/feature-cache.js';
import { freezeBatchNorm } from '../training/frozen-batch-norm.js';
import type { BackendName } from '../config/config.js';
import type { ExtractionThreadData, FromExtraction, ToExtraction } from './extraction-pool.js';
import { selectBackend } from './tfjs-backend.js';

const { artifacts, backend } = workerData as ExtractionThreadData;
const port = parentPort!;

const send = (message: FromExtraction, transfer: ArrayBuffer[] = []) =>
  port.postMessage(message, transfer);

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function load(): Promise<{
  model: tf.LayersModel;
  imageShape: number[];
  engine: BackendName;
}> {
  const { name } = await selectBackend(backend);
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  if (model.inputs.length !== 1) throw new Error(`the extractor has ${model.inputs.length} inputs`);
  const imageShape = model.inputs[0]!.shape.slice(1);
  if (imageShape.length !== 3 || imageShape.some((d) => d === null)) {
    throw new Error(`the extractor's input shape [${imageShape.join(', ')}] is not [h, w, c]`);
  }
  // Inference-mode BN, as in-process extraction runs it (same math, faster on wasm).
  freezeBatchNorm(model);
  const shape = imageShape as number[];
  const zeros = tf.zeros([1, ...shape]);
  const warmUp = model.predict(zeros);
  (Array.isArray(warmUp) ? warmUp : [warmUp]).forEach((t) => t.dataSync());
  tf.dispose([zeros, warmUp]);
  return { model, imageShape: shape, engine: name };
}

/** An array this thread may hand over: wasm and tfjs-node read out a fresh copy, cpu its own storage. */
function owned(values: tf.TypedArray): Float32Array {
  if (!(values instanceof Float32Array)) return Float32Array.from(values);
  const whole = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
  return whole && tf.getBackend() !== 'cpu' ? values : values.slice();
}

function extract(
  model: tf.LayersModel,
  imageShape: number[],
  input: Float32Array,
  batch: number,
): Float32Array[] {
  const expected = batch * imageShape.reduce((a, b) => a * b, 1);
  if (input.length !== expected) {
    throw new Error(
      `input has ${input.length} values, expected ${expected} for ${batch} images of ${imageShape.join('×')}`,
    );
  }
  return predictArrays(model, tf.tensor(input, [batch, ...imageShape], 'float32')).map(owned);
}

try {
  const { model, imageShape, engine } = await load();
  port.on('message', (message: ToExtraction) => {
    try {
      const outputs = extract(model, imageShape, message.input, message.batch);
      send(
        { type: 'result', id: message.id, outputs },
        outputs.map((o) => o.buffer as ArrayBuffer),
      );
    } catch (error) {
      send({ type: 'error', id: message.id, message: errorMessage(error) });
    }
  });
  send({ type: 'ready', backend: engine });
} catch (error) {
  send({ type: 'failed', message: errorMessage(error) });
}
