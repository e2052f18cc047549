import { DATASET_WARNING_CODES, type DatasetReportView } from '../contracts/resource-views.js';

/*
 * What a person should know about a dataset before training on it: exact duplicates, the same
 * image in train and val (leakage), the same image under two labels, class imbalance, classes
 * with few images, images much smaller than a base's input, mixed grey and colour. Warnings,
 * not refusals: the upload has already refused what training cannot use. Pure: it reads facts
 * the upload recorded (content hash, size, colour) and nothing else.
 */

export interface ImageFacts {
  path: string;
  label: string;
  split?: 'train' | 'val' | null;
  /** sha256 of the file's bytes. */
  contentHash: string;
  width: number;
  height: number;
  grey: boolean;
}

export { DATASET_WARNING_CODES };

/** The report's shape is the API's (contracts/resource-views.ts): one declaration. */
export type DatasetReport = DatasetReportView;
export type DatasetWarning = DatasetReport['warnings'][number];

export interface ReportThresholds {
  /** Classes with fewer images than this are flagged (training needs more to generalise). */
  recommendedPerClass: number;
  /** Imbalance (largest class / smallest) above this is flagged. */
  imbalanceRatio: number;
  /** Images whose shorter side is under this many pixels are flagged (half the default input). */
  smallSide: number;
}

export const DEFAULT_THRESHOLDS: ReportThresholds = {
  recommendedPerClass: 10,
  imbalanceRatio: 3,
  smallSide: 112,
};

const EXAMPLES = 10;

export function datasetReport(
  images: readonly ImageFacts[],
  thresholds: ReportThresholds = DEFAULT_THRESHOLDS,
): DatasetReport {
  const warnings: DatasetWarning[] = [];
  const byHash = new Map<string, ImageFacts[]>();
  for (const image of images)
    byHash.set(image.contentHash, [...(byHash.get(image.contentHash) ?? []), image]);
  const groups = [...byHash.values()].filter((group) => group.length > 1);
  if (groups.length > 0)
    warnings.push({
      code: 'duplicates',
      message: `${groups.length} image(s) appear more than once (${groups.reduce((n, g) => n + g.length - 1, 0)} extra copies): duplicates weigh double in training`,
      examples: groups.slice(0, EXAMPLES).map((g) => g.map((i) => i.path).join(' = ')),
    });
  const leaked = leakedValImages(images);
  if (leaked.length > 0)
    warnings.push({
      code: 'train_val_leakage',
      message: `${leaked.length} validation image(s) are identical to training images: they are dropped from validation when training, so the evaluation stays honest`,
      examples: leaked.slice(0, EXAMPLES).map((i) => i.path),
    });
  const conflicting = groups.filter((g) => new Set(g.map((i) => i.label)).size > 1);
  if (conflicting.length > 0)
    warnings.push({
      code: 'conflicting_labels',
      message: `${conflicting.length} image(s) appear under more than one class`,
      examples: conflicting
        .slice(0, EXAMPLES)
        .map((g) => g.map((i) => `${i.path} (${i.label})`).join(' = ')),
    });
  const counts = new Map<string, number>();
  for (const image of images) counts.set(image.label, (counts.get(image.label) ?? 0) + 1);
  const sizes = [...counts.values()];
  const imbalanceRatio = sizes.length > 0 ? Math.max(...sizes) / Math.min(...sizes) : 1;
  if (imbalanceRatio > thresholds.imbalanceRatio)
    warnings.push({
      code: 'class_imbalance',
      message: `the largest class has ${imbalanceRatio.toFixed(1)}× the images of the smallest: training weights classes to compensate (classWeights: auto), but more images of the small classes would help most`,
      examples: [...counts].sort((a, b) => a[1] - b[1]).map(([label, n]) => `${label}: ${n}`),
    });
  const small = [...counts]
    .filter(([, n]) => n < thresholds.recommendedPerClass)
    .sort((a, b) => a[1] - b[1]);
  if (small.length > 0)
    warnings.push({
      code: 'small_classes',
      message: `${small.length} class(es) have fewer than ${thresholds.recommendedPerClass} images: expect a noisy evaluation and a weak model for them`,
      examples: small.slice(0, EXAMPLES).map(([label, n]) => `${label}: ${n}`),
    });
  const tiny = images.filter((i) => Math.min(i.width, i.height) < thresholds.smallSide);
  if (tiny.length > 0)
    warnings.push({
      code: 'small_images',
      message: `${tiny.length} image(s) are under ${thresholds.smallSide} px on their shorter side, much smaller than the bases' 224 px input: they are upscaled and lose detail`,
      examples: tiny.slice(0, EXAMPLES).map((i) => `${i.path} (${i.width}×${i.height})`),
    });
  const grey = images.filter((i) => i.grey);
  if (grey.length > 0 && grey.length < images.length)
    warnings.push({
      code: 'mixed_colour',
      message: `${grey.length} of ${images.length} images are greyscale, the rest colour: if colour does not tell the classes apart, that is fine; if the classes differ in how they were photographed, the model may learn the camera instead of the subject`,
      examples: grey.slice(0, EXAMPLES).map((i) => i.path),
    });
  return {
    images: images.length,
    duplicateGroups: groups.length,
    leakedValImages: leaked.length,
    imbalanceRatio,
    greyImages: grey.length,
    colourImages: images.length - grey.length,
    smallImages: tiny.length,
    warnings,
  };
}

/** Validation images whose exact bytes also appear among the training images. */
export function leakedValImages<T extends Pick<ImageFacts, 'split' | 'contentHash'>>(
  images: readonly T[],
): T[] {
  const train = new Set(images.filter((i) => i.split !== 'val').map((i) => i.contentHash));
  return images.filter((i) => i.split === 'val' && train.has(i.contentHash));
}
