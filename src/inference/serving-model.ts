import * as tf from '@tensorflow/tfjs';
import { layersModelToOnnx, type OnnxGraph } from '../onnx/layers-to-onnx.js';
import { describeOnnxModel } from '../onnx/onnx-model-info.js';
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
 * tfjs. ONNX Runtime takes the stored model.onnx (written by the worker at training time) or,
 * for models trained before that, a graph converted here; anything that fails on that path
 * leaves the model on tfjs with the reason, so a prediction never fails for ORT's sake.
 */

export interface ServingModel {
  readonly engine: Engine;
  /** What it holds in memory: the ONNX graph's bytes, or the tfjs weights' bytes. */
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
}

const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

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
  const session: OnnxSession = await createOnnxSession(graph, { threads });
  const predict = async (images: Uint8Array[]) => {
    const [values] = await session.run(pixelsToFloats(images, pre), images.length);
    return { values: values!, classes: values!.length / images.length };
  };
  try {
    // The first run allocates; a request should not pay for it.
    await predict([new Uint8Array(pre.size * pre.size * 3)]);
  } catch (error) {
    await session.release();
    throw error;
  }
  return {
    engine: 'onnxruntime',
    onnxGraph,
    bytes: graph.bytes.byteLength,
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
 * Loads a model for serving: ONNX Runtime with its stored graph, else with a graph converted
 * from its tfjs files, else tfjs (with why, when ONNX Runtime was wanted).
 */
export async function loadServingModel(
  files: ModelFiles,
  pre: Preprocessing,
  choice: EngineChoice,
): Promise<ServingModel> {
  const reasons: string[] = [];
  if (choice.onnx && files.onnx) {
    try {
      return await onOnnxRuntime(describeOnnxModel(files.onnx), 'stored', pre, choice.threads);
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
