import sharp from 'sharp';
import { ImageDecodeError, MAX_INPUT_PIXELS } from './image-decoder.js';

/** Thumbnail edges a client may ask for: a few, so the cache holds at most 7 per image. */
export const THUMBNAIL_SIZES = [64, 96, 128, 160, 192, 224, 256] as const;
export const DEFAULT_THUMBNAIL_SIZE = 160;

/**
 * Bumped when the rendering below changes: it is part of every cached key and ETag, so a
 * thumbnail rendered the old way is neither served nor taken as current by a browser.
 */
export const THUMBNAIL_VERSION = 1;

export const THUMBNAIL_TYPE = 'image/webp';

/**
 * Where an image's thumbnail of one size is cached: inside its dataset's folder, so whatever
 * removes the dataset's images (its deletion, a failed upload's cleanup, the reaper's sweep of
 * folders without a dataset) removes its thumbnails too.
 */
export function thumbnailKey(datasetId: string, imageId: string, size: number): string {
  return `datasets/${datasetId}/thumbnails/v${THUMBNAIL_VERSION}/${imageId}-${size}.webp`;
}

/**
 * A thumbnail of a stored image: rotated upright by its EXIF orientation, fit inside
 * size × size (never enlarged), WebP. Decoding is bounded as uploads' is (a decompression bomb
 * throws ImageDecodeError); JPEG and WebP shrink on load, so a large photo is never decoded at
 * full size.
 */
export async function renderThumbnail(image: Buffer, size: number): Promise<Buffer> {
  try {
    return await sharp(image, { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS })
      .rotate()
      .resize(size, size, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
  } catch (error) {
    throw new ImageDecodeError(error instanceof Error ? error.message : String(error));
  }
}
