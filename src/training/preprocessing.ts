import * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from './base-model-catalog.js';

/**
 * Turns decoded RGB pixels (size × size × 3 bytes each, as storage/image-decoder.ts makes
 * them) into the base's input batch: value range and channel order. Training and inference
 * both call this, so a model always sees images prepared the same way.
 */
export function pixelsToBatch(images: readonly Uint8Array[], pre: Preprocessing): tf.Tensor4D {
  const pixelsPerImage = pre.size * pre.size * 3;
  const joined = new Uint8Array(images.length * pixelsPerImage);
  images.forEach((image, i) => {
    if (image.length !== pixelsPerImage) {
      throw new Error(`image ${i} has ${image.length} bytes, expected ${pixelsPerImage}`);
    }
    joined.set(image, i * pixelsPerImage);
  });
  return tf.tidy(() => {
    const [low, high] = pre.valueRange;
    const raw = tf.tensor4d(joined, [images.length, pre.size, pre.size, 3], 'int32');
    const scaled = raw
      .toFloat()
      .mul<tf.Tensor4D>((high - low) / 255)
      .add<tf.Tensor4D>(low);
    return pre.channelOrder === 'BGR' ? tf.reverse<tf.Tensor4D>(scaled, -1) : scaled;
  });
}
