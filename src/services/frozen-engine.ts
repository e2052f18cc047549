import type * as tf from '@tensorflow/tfjs';
import type { Config } from '../config/config.js';
import { onnxFrozenRunner } from '../onnx/onnx-runner.js';
import { loadOnnxRuntime } from '../onnx/onnx-runtime.js';
import { extractionRunner } from '../tfjs/extraction-pool.js';
import type { BackendInfo } from '../tfjs/tfjs-backend.js';
import type { FrozenPartRunner } from '../training/training-types.js';

function reason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * What runs the frozen part of the base in training (README: "Engines"): nothing but tfjs on
 * a GPU (the GPU does everything); else ONNX Runtime unless GRAFT_ONNX=off or the base does
 * not convert; else, on wasm, tfjs on worker threads so every core extracts; else tfjs in the
 * training process. Why a faster engine was passed over goes to `warn`.
 */
export function frozenPartEngine(
  config: Config,
  backend: BackendInfo,
  warn: (message: string) => void,
): (extractor: tf.LayersModel) => Promise<FrozenPartRunner | undefined> {
  return async (extractor) => {
    if (backend.name === 'tensorflow-gpu') return undefined;
    if (config.engines.onnx === 'auto') {
      try {
        return await onnxFrozenRunner(extractor, { threads: config.engines.onnxThreads });
      } catch (error) {
        warn(`ONNX Runtime does not run this base's frozen part, tfjs does: ${reason(error)}`);
      }
    }
    if (backend.name !== 'wasm') return undefined;
    try {
      return await extractionRunner(extractor, {
        threads: config.engines.extractThreads,
        backend: backend.name,
      });
    } catch (error) {
      warn(`extraction threads did not start, the training process extracts: ${reason(error)}`);
      return undefined;
    }
  };
}

/** What trains and what infers on this machine, for start-up lines. */
export async function describeEngines(config: Config, backend: string): Promise<string> {
  if (backend === 'tensorflow-gpu') return `${backend} (the GPU does everything)`;
  if (config.engines.onnx === 'off') return `${backend} (GRAFT_ONNX=off: tfjs infers too)`;
  const runtime = await loadOnnxRuntime();
  return 'reason' in runtime
    ? `${backend} (tfjs infers too: ${runtime.reason})`
    : `${backend}, the frozen part and predictions on ONNX Runtime (${config.engines.onnxThreads} threads)`;
}
