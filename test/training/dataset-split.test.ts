import { describe, expect, it } from 'vitest';
import { splitDataset, type LabelledExample } from '../../src/training/dataset-split.js';

function examples(counts: Record<string, number>): LabelledExample[] {
  return Object.entries(counts).flatMap(([label, n]) =>
    Array.from({ length: n }, (_, i) => ({ key: `${label}/img-${i}.jpg`, label })),
  );
}

const keys = (list: LabelledExample[]) => list.map((e) => e.key).sort();

describe('splitDataset', () => {
  it('is stratified: each class sends its share to validation', () => {
    const split = splitDataset(examples({ cats: 50, dogs: 30, owls: 5 }), 0.2, 42);
    const count = (label: string) => split.val.filter((e) => e.label === label).length;
    expect([count('cats'), count('dogs'), count('owls')]).toEqual([10, 6, 1]);
    expect(split.train.length + split.val.length).toBe(85);
    expect(split.labels).toEqual(['cats', 'dogs', 'owls']);
    expect(split.method).toBe('stratified');
  });

  it('is deterministic: the same image lands on the same side whatever the listing order', () => {
    const list = examples({ a: 40, b: 40 });
    const first = splitDataset(list, 0.25, 7);
    const second = splitDataset([...list].reverse(), 0.25, 7);
    expect(keys(second.val)).toEqual(keys(first.val));
    expect(keys(second.train)).toEqual(keys(first.train));
  });

  it('changes with the seed', () => {
    const list = examples({ a: 40, b: 40 });
    expect(keys(splitDataset(list, 0.25, 1).val)).not.toEqual(
      keys(splitDataset(list, 0.25, 2).val),
    );
  });

  it('respects a split the dataset already has', () => {
    const list = examples({ a: 4, b: 4 }).map((e, i) => ({
      ...e,
      split: i % 4 === 0 ? ('val' as const) : ('train' as const),
    }));
    const split = splitDataset(list, 0.5, 1);
    expect(split.method).toBe('given');
    expect(split.val.map((e) => e.key)).toEqual(['a/img-0.jpg', 'b/img-0.jpg']);
  });

  it('refuses a single class or a class too small to split', () => {
    expect(() => splitDataset(examples({ a: 10 }), 0.2, 1)).toThrow(/at least 2 classes/);
    expect(() => splitDataset(examples({ a: 10, b: 1 }), 0.2, 1)).toThrow(/class 'b' has 1 image/);
  });
});
