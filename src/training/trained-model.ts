/*
 * What running a trained classifier needs from the training core, and all of it that
 * src/inference may import (eslint.config.js enforces this): the preprocessing training used,
 * BatchNormalization frozen the same way, and freeing a model's weights.
 */
export type { Preprocessing } from './base-model-catalog.js';
export { freezeBatchNorm } from './frozen-batch-norm.js';
export { disposeModelWeights } from './model-surgery.js';
export { pixelsToBatch, pixelsToFloats } from './preprocessing.js';
