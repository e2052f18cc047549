import sharp from 'sharp';
import type { Preprocessing } from '../training/base-model-catalog.js';

/** File extensions Graft reads as images (what sharp decodes). */
export const IMAGE_EXTENSIONS = new Set([
  '.jpg',
  '.jpeg',
  '.png',
  '.webp',
  '.gif',
  '.tif',
  '.tiff',
  '.avif',
  '.bmp',
]);

/** Decompression-bomb guard: 100 megapixels is more than any camera photo. */
export const MAX_INPUT_PIXELS = 100_000_000;

export class ImageDecodeError extends Error {
  override name = 'ImageDecodeError';
}

/**
 * Decodes an image (JPEG, PNG, WebP, GIF, TIFF, AVIF…) to the base's input: rotated upright
 * by its EXIF orientation, alpha dropped, sRGB, resized to size × size by the base's resize
 * mode. Returns size² × 3 bytes, RGB. Corrupt, truncated or oversized images throw
 * ImageDecodeError with sharp's reason.
 */
export async function decodeImage(input: Buffer | string, pre: Preprocessing): Promise<Uint8Array> {
  try {
    const { data, info } = await sharp(input, {
      failOn: 'error',
      limitInputPixels: MAX_INPUT_PIXELS,
      sequentialRead: true,
    })
      .rotate()
      .removeAlpha()
      .toColourspace('srgb')
      .resize(pre.size, pre.size, { fit: pre.resize, position: 'centre' })
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (error) {
    throw new ImageDecodeError(error instanceof Error ? error.message : String(error));
  }
}
