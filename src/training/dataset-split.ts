/** The side of a given split an image sits on. */
export type SplitName = 'train' | 'val';

/**
 * Top-level folder names (in a zip or an image folder) that mark a dataset as already split,
 * and the side each stands for.
 */
export const SPLIT_FOLDERS: ReadonlyMap<string, SplitName> = new Map([
  ['train', 'train'],
  ['val', 'val'],
  ['validation', 'val'],
]);

export const isSplitName = (value: unknown): value is SplitName =>
  value === 'train' || value === 'val';

/** A labelled image as the training core sees it: an opaque key and its class. */
export interface LabelledExample {
  key: string;
  label: string;
  /** Set when the dataset came already split (train/ and val/ folders). */
  split?: SplitName;
  /** sha256 of the file: identical images never sit on both sides of the split. */
  contentHash?: string;
}

export interface DatasetSplit<T extends LabelledExample> {
  labels: string[];
  train: T[];
  val: T[];
  /** 'given' when the examples carried their split, 'stratified' when Graft made it. */
  method: 'given' | 'stratified';
  /** Validation images identical to a training image, left out of validation (leakage). */
  droppedFromValidation: number;
}

/** FNV-1a: a stable 32-bit hash, so an image's split never depends on listing order. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class DatasetSplitError extends Error {
  override name = 'DatasetSplitError';
}

/**
 * Splits examples into train and validation sets, stratified by class: each class sends
 * round(n × fraction) of its images (at least one) to validation, chosen by a hash of the
 * image key and the seed — the same image always lands on the same side.
 */
export function splitDataset<T extends LabelledExample>(
  examples: readonly T[],
  fraction: number,
  seed: number,
): DatasetSplit<T> {
  const labels = [...new Set(examples.map((e) => e.label))].sort();
  if (labels.length < 2) {
    throw new DatasetSplitError(`need at least 2 classes, found ${labels.length}`);
  }
  const given = examples.some((e) => e.split !== undefined);
  let train: T[];
  let val: T[];
  if (given) {
    train = examples.filter((e) => e.split !== 'val');
    val = examples.filter((e) => e.split === 'val');
  } else {
    train = [];
    val = [];
    for (const label of labels) {
      const ranked = examples
        .filter((e) => e.label === label)
        .map((e) => ({ e, rank: stableHash(`${seed}:${e.contentHash ?? e.key}`) }))
        .sort((a, b) => a.rank - b.rank || (a.e.key < b.e.key ? -1 : 1));
      let valCount = Math.max(1, Math.round(ranked.length * fraction));
      // Copies of one image share a rank, so they sit together: never cut between them.
      const hashAt = (i: number) => ranked[i]!.e.contentHash ?? ranked[i]!.e.key;
      while (valCount < ranked.length - 1 && hashAt(valCount) === hashAt(valCount - 1)) valCount++;
      if (ranked.length - valCount < 1) {
        throw new DatasetSplitError(
          `class '${label}' has ${ranked.length} image(s): need at least 2 to train and validate`,
        );
      }
      ranked.forEach(({ e }, i) => (i < valCount ? val : train).push(e));
    }
  }
  // An image in both would be graded on what the model was trained on.
  const trained = new Set(train.flatMap((e) => (e.contentHash ? [e.contentHash] : [])));
  const leaked = val.filter((e) => e.contentHash !== undefined && trained.has(e.contentHash));
  if (leaked.length > 0) val = val.filter((e) => !leaked.includes(e));
  for (const label of labels) {
    if (!train.some((e) => e.label === label)) {
      throw new DatasetSplitError(`class '${label}' has no training images`);
    }
  }
  return {
    labels,
    train,
    val,
    method: given ? 'given' : 'stratified',
    droppedFromValidation: leaked.length,
  };
}
