import { describe, expect, it } from 'vitest';
import {
  DATASET_WARNING_CODES,
  datasetReport,
  type ImageFacts,
} from '../../src/training/dataset-report.js';
import { splitDataset } from '../../src/training/dataset-split.js';

const image = (path: string, label: string, hash: string, extra: Partial<ImageFacts> = {}) => ({
  path,
  label,
  contentHash: hash,
  width: 300,
  height: 200,
  grey: false,
  ...extra,
});

describe('datasetReport', () => {
  it('finds duplicates, leakage, conflicting labels, imbalance, small classes and images, mixed colour', () => {
    const images: ImageFacts[] = [
      image('train/a/1.jpg', 'a', 'h1', { split: 'train' }),
      image('train/a/1-copy.jpg', 'a', 'h1', { split: 'train' }),
      image('val/a/1.jpg', 'a', 'h1', { split: 'val' }),
      image('train/b/x.jpg', 'b', 'h2', { split: 'train', grey: true }),
      image('train/a/x.jpg', 'a', 'h2', { split: 'train' }),
      image('train/a/small.jpg', 'a', 'h3', { split: 'train', width: 64, height: 300 }),
      ...Array.from({ length: 10 }, (_, i) => image(`train/a/${i}.png`, 'a', `a${i}`)),
    ];
    const report = datasetReport(images);
    expect(report).toMatchObject({
      images: 16,
      duplicateGroups: 2,
      leakedValImages: 1,
      imbalanceRatio: 15,
      greyImages: 1,
      colourImages: 15,
      smallImages: 1,
    });
    const codes = report.warnings.map((w) => w.code);
    expect(codes).toEqual([...DATASET_WARNING_CODES]);
    const by = (code: string) => report.warnings.find((w) => w.code === code)!.examples;
    expect(by('train_val_leakage')).toEqual(['val/a/1.jpg']);
    expect(by('conflicting_labels')).toEqual(['train/b/x.jpg (b) = train/a/x.jpg (a)']);
    expect(by('small_images')).toEqual(['train/a/small.jpg (64×300)']);
    expect(by('small_classes')).toEqual(['b: 1']);
  });

  it('has nothing to say about a clean, balanced dataset', () => {
    const images = Array.from({ length: 24 }, (_, i) =>
      image(`${i % 2 ? 'a' : 'b'}/${i}.jpg`, i % 2 ? 'a' : 'b', `h${i}`),
    );
    expect(datasetReport(images).warnings).toEqual([]);
  });
});

describe('splitDataset with content hashes', () => {
  it('drops validation images identical to training images (given split)', () => {
    const split = splitDataset(
      [
        { key: 't1', label: 'a', split: 'train' as const, contentHash: 'x' },
        { key: 't2', label: 'b', split: 'train' as const, contentHash: 'y' },
        { key: 'v1', label: 'a', split: 'val' as const, contentHash: 'x' },
        { key: 'v2', label: 'a', split: 'val' as const, contentHash: 'z' },
        { key: 'v3', label: 'b', split: 'val' as const, contentHash: 'w' },
      ],
      0.2,
      1,
    );
    expect(split.val.map((e) => e.key)).toEqual(['v2', 'v3']);
    expect(split.droppedFromValidation).toBe(1);
  });

  it('never puts copies of one image on both sides of a stratified split', () => {
    const examples = Array.from({ length: 40 }, (_, i) => ({
      key: `k${i}`,
      label: i % 2 ? 'a' : 'b',
      contentHash: `h${Math.floor(i / 4)}`, // every image twice per class
    }));
    for (const seed of [1, 2, 3, 4, 5]) {
      const split = splitDataset(examples, 0.25, seed);
      const train = new Set(split.train.map((e) => e.contentHash));
      expect(split.val.filter((e) => train.has(e.contentHash))).toEqual([]);
      expect(split.droppedFromValidation).toBe(0);
    }
  });
});
