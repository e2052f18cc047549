import * as tf from '@tensorflow/tfjs';
import type { Preprocessing } from './base-model-catalog.js';
import type { LabelledExample } from './dataset-split.js';
import { mirrorPixels, pixelsToBatch, pixelsToFloats } from './preprocessing.js';
import { StoreUnreadable, type EmbeddingCache, type FrozenPartRunner } from './training-types.js';

export interface CachedSplit<T extends LabelledExample> {
  /** Examples that decoded, in the order of the cached rows. */
  examples: T[];
  /** Whether each row is a mirrored copy. */
  mirrored: boolean[];
  /** One tensor per extractor output, first axis = examples. */
  outputs: tf.Tensor[];
  /** Images whose outputs came from the embedding cache (no decoding, no extraction). */
  fromCache: number;
  /**
   * What ran the extractor: the runner's engine, or `tfjs` (and what took over from a runner
   * that failed); undefined when every image came from the embedding cache.
   */
  engine?: string;
}

export interface FeatureCacheOptions {
  batchSize: number;
  /** Also cache each image mirrored left-right (augmentation; doubles the rows). */
  mirror?: boolean;
  signal?: AbortSignal;
  onBatch: (done: number) => void;
  onSkip: (key: string, reason: string) => void;
  /**
   * What runs the extractor outside tfjs (ONNX Runtime, worker threads), asked for on the first
   * image that needs extracting; tfjs in this process if absent or it gives none.
   */
  runner?: () => Promise<FrozenPartRunner | undefined>;
  /** Called once if the runner fails: the rest runs on tfjs. */
  onRunnerFailed?: (error: unknown) => void;
  /** Outputs of images seen before, and what names them (see EmbeddingCache). */
  embeddings?: { cache: EmbeddingCache; context: string };
}

/**
 * Runs `model` on `input` (which it disposes) and returns each output's values. Not inside
 * tidy: predict frees each activation as soon as it is used, whereas a tidy scope keeps them
 * all until it closes (measured 2x slower on wasm at 224 px).
 */
export function predictArrays(model: tf.LayersModel, input: tf.Tensor): Float32Array[] {
  let result: tf.Tensor | tf.Tensor[];
  try {
    result = model.predict(input);
  } finally {
    input.dispose();
  }
  const tensors = Array.isArray(result) ? result : [result];
  try {
    return tensors.map((t) => t.dataSync() as Float32Array);
  } finally {
    tf.dispose(tensors);
  }
}

/** One example of a batch: its cached outputs (upright, then mirrored), or its pixels, or why not. */
interface Loaded<T> {
  example: T;
  cached?: Float32Array[][];
  pixels?: Uint8Array;
  error?: string;
}

/** Batches decoded ahead of the one being extracted, so neither waits for the other. */
const PREFETCH = 2;
/** Batches' cache writes in flight at once: a slow store holds extraction back, not memory. */
const PUTS_IN_FLIGHT = 2;

/**
 * Runs the frozen part of the base once per image and keeps its outputs, so no epoch ever
 * recomputes it. Images the embedding cache already holds are neither decoded nor extracted;
 * the others are decoded up to PREFETCH batches ahead of the extraction, and what they give is
 * put in the cache. Rows come out in the same order whatever was cached: per batch, each
 * example upright, then (with `mirror`) each mirrored.
 */
export async function cacheFrozenOutputs<T extends LabelledExample>(
  extractor: tf.LayersModel,
  examples: readonly T[],
  pre: Preprocessing,
  loadPixels: (key: string) => Promise<Uint8Array>,
  options: FeatureCacheOptions,
): Promise<CachedSplit<T>> {
  const mirror = options.mirror === true;
  const views = mirror ? [false, true] : [false];
  const shapes = extractor.outputs.map((o) => o.shape.slice(1) as number[]);
  const rowSizes = shapes.map((shape) => shape.reduce((a, b) => a * b, 1));
  const embeddings = options.embeddings;
  let runner: FrozenPartRunner | undefined;
  let asked = false;
  let engine: string | undefined;

  const load = async (batch: readonly T[]): Promise<Loaded<T>[]> => {
    const hashed = embeddings ? batch.filter((e) => e.contentHash !== undefined) : [];
    const found = hashed.length
      ? await embeddings!.cache.get(
          embeddings!.context,
          hashed.flatMap((e) =>
            views.map((mirrored) => ({ contentHash: e.contentHash!, mirrored })),
          ),
        )
      : [];
    const cached = new Map<T, Float32Array[][]>();
    hashed.forEach((example, i) => {
      const entries = views.map((_, v) => found[i * views.length + v]);
      const whole = entries.every(
        (outputs) =>
          outputs?.length === rowSizes.length &&
          outputs.every((array, o) => array.length === rowSizes[o]),
      );
      if (whole) cached.set(example, entries as Float32Array[][]);
    });
    return Promise.all(
      batch.map(async (example): Promise<Loaded<T>> => {
        const hit = cached.get(example);
        if (hit) return { example, cached: hit };
        try {
          return { example, pixels: await loadPixels(example.key) };
        } catch (error) {
          // The image is fine, its store is not: stop rather than train on what could be read.
          if (error instanceof StoreUnreadable) throw error;
          return { example, error: error instanceof Error ? error.message : String(error) };
        }
      }),
    );
  };

  /** The extractor's outputs for decoded images: per image, per view, per output. */
  const extract = async (pixels: Uint8Array[]): Promise<Float32Array[][][]> => {
    const inputs = [...pixels, ...(mirror ? pixels.map((p) => mirrorPixels(p, pre.size)) : [])];
    if (!asked) {
      asked = true;
      runner = await options.runner?.();
      engine = runner?.engine ?? 'tfjs';
    }
    let outputs: Float32Array[] | undefined;
    if (runner) {
      try {
        outputs = await runner.run(pixelsToFloats(inputs, pre), inputs.length);
      } catch (error) {
        options.onRunnerFailed?.(error);
        engine = `${runner.engine}, then tfjs after it failed`;
        runner = undefined;
      }
    }
    outputs ??= predictArrays(extractor, pixelsToBatch(inputs, pre));
    return pixels.map((_, i) =>
      views.map((_, v) => {
        const row = v * pixels.length + i;
        return outputs.map((array, o) => array.slice(row * rowSizes[o]!, (row + 1) * rowSizes[o]!));
      }),
    );
  };

  const kept: T[] = [];
  const mirrored: boolean[] = [];
  const rows: Float32Array[][] = rowSizes.map(() => []);
  let fromCache = 0;
  const batches: T[][] = [];
  for (let i = 0; i < examples.length; i += options.batchSize) {
    batches.push(examples.slice(i, i + options.batchSize));
  }
  const pending = batches.slice(0, PREFETCH).map(load);
  const puts: Promise<void>[] = [];
  try {
    for (let b = 0; b < batches.length; b++) {
      options.signal?.throwIfAborted();
      const loaded = await pending[b]!;
      if (b + PREFETCH < batches.length) pending.push(load(batches[b + PREFETCH]!));
      for (const item of loaded) {
        if (item.error !== undefined) options.onSkip(item.example.key, item.error);
      }
      const decoded = loaded.filter((item) => item.pixels !== undefined);
      const computed = decoded.length ? await extract(decoded.map((item) => item.pixels!)) : [];
      const byExample = new Map(decoded.map((item, i) => [item, computed[i]!]));
      const good = loaded.filter((item) => item.error === undefined);
      const perExample = good.map((item) => item.cached ?? byExample.get(item)!);
      fromCache += good.length - decoded.length;
      views.forEach((view, v) => {
        good.forEach((item, i) => {
          kept.push(item.example);
          mirrored.push(view);
          perExample[i]![v]!.forEach((array, o) => rows[o]!.push(array));
        });
      });
      if (embeddings) {
        const entries = decoded.flatMap((item) =>
          item.example.contentHash === undefined
            ? []
            : views.map((view, v) => ({
                contentHash: item.example.contentHash!,
                mirrored: view,
                outputs: byExample.get(item)![v]!,
              })),
        );
        // Not awaited here: the next batch need not wait for the store, unless it falls behind.
        if (puts.length >= PUTS_IN_FLIGHT) await puts.shift()!.catch(() => undefined);
        if (entries.length) puts.push(embeddings.cache.put(embeddings.context, entries));
      }
      options.onBatch(batches[b]!.length);
    }
  } finally {
    // A failed batch must not leave later loads' rejections unhandled.
    for (const later of pending) later.catch(() => undefined);
    // The cache never fails a run: an entry that could not be stored is just computed again.
    await Promise.all(puts.map((put) => put.catch(() => undefined)));
  }
  const outputs = rows.map((list, o) => {
    const joined = new Float32Array(list.length * rowSizes[o]!);
    list.forEach((array, r) => joined.set(array, r * rowSizes[o]!));
    return tf.tensor(joined, [list.length, ...shapes[o]!]);
  });
  return {
    examples: kept,
    mirrored,
    outputs,
    fromCache,
    engine,
  };
}
