import type * as tf from '@tensorflow/tfjs';
import type { FrozenPartRunner } from '../training/training-types.js';
import { layersModelToOnnx } from './layers-to-onnx.js';
import { createOnnxSession } from './onnx-runtime.js';

/**
 * The frozen part of a base (the training core's extractor) on ONNX Runtime: converted once
 * per run, every output in one pass. Throws OnnxConversionError or OnnxRuntimeUnavailable
 * where it cannot run; callers then keep tfjs.
 */
export async function onnxFrozenRunner(
  extractor: tf.LayersModel,
  options: { threads: number },
): Promise<FrozenPartRunner> {
  const graph = layersModelToOnnx(extractor, { name: 'graft_frozen_part' });
  const session = await createOnnxSession(graph, options);
  return {
    engine: `onnxruntime (${session.threads} thread${session.threads === 1 ? '' : 's'})`,
    run: (input, batch) => session.run(input, batch),
    dispose: () => session.release(),
  };
}
