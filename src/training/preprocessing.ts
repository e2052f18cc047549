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

/**
 * pixelsToBatch as plain float32 NHWC values, for engines other than tfjs (ONNX Runtime): the
 * same value range and channel order, rounded as tfjs rounds (a float32 multiply, then a
 * float32 add), so both engines see the same numbers.
 */
export function pixelsToFloats(images: readonly Uint8Array[], pre: Preprocessing): Float32Array {
  const pixelsPerImage = pre.size * pre.size * 3;
  const [low, high] = pre.valueRange;
  const scale = Math.fround((high - low) / 255);
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = Math.fround(Math.fround(v * scale) + Math.fround(low));
  const out = new Float32Array(images.length * pixelsPerImage);
  const bgr = pre.channelOrder === 'BGR';
  images.forEach((image, i) => {
    if (image.length !== pixelsPerImage) {
      throw new Error(`image ${i} has ${image.length} bytes, expected ${pixelsPerImage}`);
    }
    const base = i * pixelsPerImage;
    for (let p = 0; p < pixelsPerImage; p += 3) {
      out[base + p] = table[image[bgr ? p + 2 : p]!]!;
      out[base + p + 1] = table[image[p + 1]!]!;
      out[base + p + 2] = table[image[bgr ? p : p + 2]!]!;
    }
  });
  return out;
}

/** An image (size × size × 3 bytes, RGB) mirrored left-right: the flip augmentation. */
export function mirrorPixels(image: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(image.length);
  const row = size * 3;
  for (let y = 0; y < size; y++) {
    const start = y * row;
    for (let x = 0; x < size; x++) {
      const from = start + x * 3;
      const to = start + (size - 1 - x) * 3;
      out[to] = image[from]!;
      out[to + 1] = image[from + 1]!;
      out[to + 2] = image[from + 2]!;
    }
  }
  return out;
}
