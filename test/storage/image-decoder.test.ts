import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, ImageDecodeError } from '../../src/storage/image-decoder.js';
import { listImageFolder } from '../../src/storage/image-folder.js';
import type { Preprocessing } from '../../src/training/base-model-catalog.js';

const pre: Preprocessing = { size: 8, resize: 'fill', valueRange: [-1, 1], channelOrder: 'RGB' };

/** A 4-wide, 2-high image: left half red, right half blue. */
async function leftRedRightBlue(): Promise<Buffer> {
  const pixels = Buffer.alloc(4 * 2 * 3);
  for (let y = 0; y < 2; y++) {
    for (let x = 0; x < 4; x++) pixels.set(x < 2 ? [255, 0, 0] : [0, 0, 255], (y * 4 + x) * 3);
  }
  return sharp(pixels, { raw: { width: 4, height: 2, channels: 3 } })
    .png()
    .toBuffer();
}

const pixelAt = (rgb: Uint8Array, size: number, x: number, y: number) =>
  Array.from(rgb.subarray((y * size + x) * 3, (y * size + x) * 3 + 3));

describe('decodeImage', () => {
  it('decodes to size × size × 3 RGB bytes', async () => {
    const rgb = await decodeImage(await leftRedRightBlue(), pre);
    expect(rgb).toHaveLength(8 * 8 * 3);
    expect(pixelAt(rgb, 8, 0, 4)).toEqual([255, 0, 0]);
    expect(pixelAt(rgb, 8, 7, 4)).toEqual([0, 0, 255]);
  });

  it('turns the image upright by its EXIF orientation', async () => {
    // Orientation 6: the stored image must be rotated 90° clockwise for display.
    const rotated = await sharp(await leftRedRightBlue())
      .jpeg({ quality: 100 })
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const rgb = await decodeImage(rotated, pre);
    const top = pixelAt(rgb, 8, 4, 0);
    const bottom = pixelAt(rgb, 8, 4, 7);
    expect(top[0]).toBeGreaterThan(200); // red is on top after rotating clockwise
    expect(bottom[2]).toBeGreaterThan(200);
  });

  it('drops alpha and expands greyscale to three channels', async () => {
    const rgba = await sharp({
      create: { width: 5, height: 5, channels: 4, background: { r: 10, g: 20, b: 30, alpha: 0.5 } },
    })
      .png()
      .toBuffer();
    expect(await decodeImage(rgba, pre)).toHaveLength(8 * 8 * 3);
    const grey = await sharp(Buffer.alloc(25, 128), { raw: { width: 5, height: 5, channels: 1 } })
      .png()
      .toBuffer();
    const rgb = await decodeImage(grey, pre);
    expect(pixelAt(rgb, 8, 3, 3)).toEqual([128, 128, 128]);
  });

  it('centre-crops for cover and stretches for fill', async () => {
    const wide = await leftRedRightBlue();
    const cover = await decodeImage(wide, { ...pre, resize: 'cover' });
    // A 2:1 image centre-cropped to a square keeps the middle: red on the left, blue on the right.
    expect(pixelAt(cover, 8, 0, 0)[0]).toBeGreaterThan(200);
    expect(pixelAt(cover, 8, 7, 0)[2]).toBeGreaterThan(200);
  });

  it('rejects corrupt, truncated and non-image input with a clear error', async () => {
    const jpeg = await sharp({
      create: { width: 64, height: 64, channels: 3, background: 'white' },
    })
      .jpeg()
      .toBuffer();
    await expect(decodeImage(Buffer.from('not an image at all'), pre)).rejects.toThrow(
      ImageDecodeError,
    );
    await expect(decodeImage(jpeg.subarray(0, jpeg.length / 2), pre)).rejects.toThrow(
      ImageDecodeError,
    );
  });

  it('refuses decompression bombs by pixel count', async () => {
    const huge = await sharp({
      create: { width: 12_000, height: 9_000, channels: 3, background: 'black' },
    })
      .png({ compressionLevel: 9 })
      .toBuffer();
    await expect(decodeImage(huge, pre)).rejects.toThrow(/pixel limit/i);
  });
});

describe('listImageFolder', () => {
  it('reads class folders, or train/ and val/ splits, ignoring non-images', async () => {
    const root = mkdtempSync(join(tmpdir(), 'graft-folder-'));
    for (const path of [
      'train/cats/a.jpg',
      'train/dogs/b.PNG',
      'val/cats/c.jpeg',
      'val/dogs/d.webp',
      'train/dogs/notes.txt',
    ]) {
      mkdirSync(join(root, path, '..'), { recursive: true });
      writeFileSync(join(root, path), 'x');
    }
    expect(await listImageFolder(root)).toEqual([
      { key: 'train/cats/a.jpg', label: 'cats', split: 'train' },
      { key: 'train/dogs/b.PNG', label: 'dogs', split: 'train' },
      { key: 'val/cats/c.jpeg', label: 'cats', split: 'val' },
      { key: 'val/dogs/d.webp', label: 'dogs', split: 'val' },
    ]);
    expect(await listImageFolder(join(root, 'train'))).toEqual([
      { key: 'cats/a.jpg', label: 'cats' },
      { key: 'dogs/b.PNG', label: 'dogs' },
    ]);
  });
});
