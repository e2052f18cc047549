import * as tf from '@tensorflow/tfjs';
import { layersModelToOnnx, type OnnxGraph } from '../onnx/layers-to-onnx.js';
import { currentOnnxModel } from '../onnx/onnx-model-info.js';
import {
  createOnnxSession,
  OnnxRuntimeUnavailable,
  type OnnxSession,
} from '../onnx/onnx-runtime.js';
import {
  disposeModelWeights,
  freezeBatchNorm,
  pixelsToBatch,
  pixelsToFloats,
  type Preprocessing,
} from '../training/trained-model.js';
import type { Engine, ModelFiles } from './inference-protocol.js';

/*
 * One trained classifier loaded for serving, on ONNX Runtime where it can run there, else on
 * tfjs. ONNX Runtime takes the stored model.onnx (written by the worker at training time) if
 * this build's converter wrote it, else a graph converted here; anything that fails on that
 * path leaves the model on tfjs with the reason, so a prediction never fails for ORT's sake.
 */

/*
 * What an ONNX Runtime serving session holds, measured with a throwaway script (RSS before and
 * after creating sessions and running batches; onnxruntime-node 1.30, 2 intra-op threads,
 * MobileNetV2 + a dense head at 224 px):
 * - ORT's CPU memory arena and memory pattern on (its default): each session keeps the peak
 *   working memory of the largest batch it ran, for life: alpha 0.35 (1.5 MB .onnx) 84 MB after
 *   16 images, 163 MB after 32; alpha 1.0 (9.8 MB .onnx) 195 MB after 16.
 * - Both off (here): a session keeps about its weights once it has run, 0.6–4 MB per session
 *   for alpha 0.35 and 10–13 MB for alpha 1.0, over 24 sessions. A run's working memory goes
 *   back to malloc, which keeps one peak for the whole thread (~75 MB for 8 images at 224 px).
 * Hence SESSION_* below: 1.5 × the graph's bytes + 4 MiB per session. Without an arena a big run
 * is slower per image (fresh pages each time: 32 images at once 50–90 ms against 29–33 ms with
 * the arena), so batches go through in runs of RUN_PIXELS (8 images at 224 px: 28–32 ms for 32).
 */
const SESSION_WEIGHT_FACTOR = 1.5;
const SESSION_OVERHEAD_BYTES = 4 * 1024 ** 2;
const RUN_PIXELS = 8 * 224 * 224;

/** The memory a serving session for a graph of `graphBytes` is counted as (see above). */
export const sessionBytes = (graphBytes: number) =>
  Math.ceil(graphBytes * SESSION_WEIGHT_FACTOR) + SESSION_OVERHEAD_BYTES;

export interface ServingModel {
  readonly engine: Engine;
  /** What it is counted as holding: its session's estimate (sessionBytes), or its tfjs weights. */
  readonly bytes: number;
  /** On ONNX Runtime: its graph was stored beside the model, or converted on load. */
  readonly onnxGraph?: 'stored' | 'converted';
  /** Why a model that could have run on ONNX Runtime runs on tfjs. */
  readonly fallback?: string;
  /** Softmax scores of decoded images (RGB at the model's size), `classes` per image. */
  predict(images: Uint8Array[]): Promise<{ values: Float32Array; classes: number }>;
  /** Frees it; never while a `predict` is running. */
  release(): Promise<void>;
}

export interface EngineChoice {
  /** Try ONNX Runtime first (GRAFT_ONNX=auto, not on the tensorflow-gpu backend). */
  onnx: boolean;
  /** ONNX Runtime intra-op threads per session (GRAFT_ONNX_THREADS). */
  threads: number;
  /** Why this model stays off ONNX Runtime (it failed a batch there): tfjs, with this reason. */
  onnxFailed?: string;
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

function joined(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

async function onOnnxRuntime(
  graph: OnnxGraph,
  onnxGraph: 'stored' | 'converted',
  pre: Preprocessing,
  threads: number,
): Promise<ServingModel> {
  const [height, width, channels] = graph.inputShape;
  if (height !== pre.size || width !== pre.size || channels !== 3) {
    throw new Error(
      `its ONNX input is [${graph.inputShape.join(', ')}], the model takes ${pre.size}×${pre.size}×3`,
    );
  }
  const session: OnnxSession = await createOnnxSession(graph, { threads, memoryArena: false });
  const perRun = Math.max(1, Math.floor(RUN_PIXELS / (pre.size * pre.size)));
  const predict = async (images: Uint8Array[]) => {
    const runs: Float32Array[] = [];
    for (let start = 0; start < images.length; start += perRun) {
      const part = images.slice(start, start + perRun);
      runs.push((await session.run(pixelsToFloats(part, pre), part.length))[0]!);
    }
    const values = runs.length === 1 ? runs[0]! : joined(runs);
    return { values, classes: values.length / images.length };
  };
  try {
    // The first run prepares its kernels (weights repacked); a request should not pay for it.
    await predict([new Uint8Array(pre.size * pre.size * 3)]);
  } catch (error) {
    await session.release();
    throw error;
  }
  return {
    engine: 'onnxruntime',
    onnxGraph,
    bytes: sessionBytes(graph.bytes.byteLength),
    predict,
    release: () => session.release(),
  };
}

function onTfjs(model: tf.LayersModel, pre: Preprocessing, bytes: number, fallback?: string) {
  // Same math as stock BatchNormalization at inference, and faster on wasm.
  freezeBatchNorm(model);
  const predict = (images: Uint8Array[]) => {
    const input = pixelsToBatch(images, pre);
    let output: tf.Tensor;
    try {
      output = model.predict(input) as tf.Tensor;
    } finally {
      input.dispose();
    }
    const values = output.dataSync() as Float32Array;
    const classes = output.shape[1]!;
    output.dispose();
    return { values, classes };
  };
  try {
    predict([new Uint8Array(pre.size * pre.size * 3)]);
  } catch (error) {
    disposeModelWeights(model);
    throw error;
  }
  const served: ServingModel = {
    engine: 'tfjs',
    bytes,
    fallback,
    predict: (images) => Promise.resolve(predict(images)),
    release: () => Promise.resolve(disposeModelWeights(model)),
  };
  return served;
}

const weightBytes = (artifacts: tf.io.ModelArtifacts) =>
  artifacts.weightData instanceof ArrayBuffer ? artifacts.weightData.byteLength : 0;

/** Converts a classifier's files to ONNX (throws OnnxConversionError for a layer it refuses). */
export async function convertToOnnx(artifacts: tf.io.ModelArtifacts): Promise<OnnxGraph> {
  const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  try {
    return layersModelToOnnx(model);
  } finally {
    disposeModelWeights(model);
  }
}

/**
 * Loads a model for serving: ONNX Runtime with its stored graph (if this converter version
 * wrote it), else with a graph converted from its tfjs files, else tfjs (with why, when ONNX
 * Runtime was wanted).
 */
export async function loadServingModel(
  files: ModelFiles,
  pre: Preprocessing,
  choice: EngineChoice,
): Promise<ServingModel> {
  const reasons: string[] = [];
  if (choice.onnxFailed) {
    reasons.push(choice.onnxFailed);
    choice = { ...choice, onnx: false };
  }
  const stored = choice.onnx && files.onnx ? currentOnnxModel(files.onnx) : undefined;
  if (stored) {
    try {
      return await onOnnxRuntime(stored, 'stored', pre, choice.threads);
    } catch (error) {
      reasons.push(`its model.onnx did not run: ${reasonOf(error)}`);
      if (error instanceof OnnxRuntimeUnavailable) choice = { ...choice, onnx: false };
    }
  }
  const model = await tf.loadLayersModel(tf.io.fromMemory(files.artifacts));
  let graph: OnnxGraph | undefined;
  if (choice.onnx) {
    try {
      graph = layersModelToOnnx(model);
    } catch (error) {
      reasons.push(`it does not convert to ONNX: ${reasonOf(error)}`);
    }
  }
  if (graph) {
    try {
      const served = await onOnnxRuntime(graph, 'converted', pre, choice.threads);
      disposeModelWeights(model);
      return served;
    } catch (error) {
      reasons.push(`ONNX Runtime did not run its converted graph: ${reasonOf(error)}`);
    }
  }
  const fallback = reasons.length > 0 ? reasons.join('; ') : undefined;
  return onTfjs(model, pre, weightBytes(files.artifacts), fallback);
}
