import { createHash } from 'node:crypto';
import type * as tf from '@tensorflow/tfjs';
import type { EmbeddingCacheRepository } from '../db/embedding-cache.repository.js';
import type { EmbeddingCache } from '../training/training-types.js';
import type { ArtifactStore } from './artifact-store.js';
import { decodeEmbedding, encodeEmbedding } from './embedding-format.js';

/** Objects read or written at once by one call. */
const DEFAULT_CONCURRENCY = 16;

/**
 * Past the budget, entries go until this share of it is left: the next puts then find room
 * without ranking every row (a sum is ~5 ms over 40,000 rows, the ranking ~30 ms).
 */
const LOW_WATER = 0.9;

/**
 * An entry no job has read or stored for this long goes (the reaper's sweep, `expireEmbeddings`):
 * what a tenant stopped training on is not kept for ever. README: "Embedding cache".
 */
export const EMBEDDING_MAX_IDLE_DAYS = 30;
const MAX_IDLE_MS = EMBEDDING_MAX_IDLE_DAYS * 24 * 3_600_000;

/** Tenant ids are UUIDs; anything else must never become part of a store key. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Entry keys are sha256 hex (`keyOf`). */
const KEY = /^[0-9a-f]{64}$/;

export interface TenantEmbeddingsOptions {
  store: ArtifactStore;
  index: EmbeddingCacheRepository;
  tenantId: string;
  /** `baseModelDigest` of the base whose outputs these are. */
  baseDigest: string;
  /** Bytes the tenant's cache may hold (GRAFT_EMBEDDING_CACHE_BYTES); 0 stores and finds nothing. */
  budgetBytes: number;
  /** Objects read or written at once (16 by default). */
  concurrency?: number;
  /** Told the first failure of each kind (reading, writing, evicting, a damaged object). */
  onWarning?: (message: string, error: unknown) => void;
}

type Failure = 'read' | 'write' | 'evict' | 'damaged';

const MESSAGES: Record<Failure, string> = {
  read: 'embedding cache: reading failed; those images are extracted again',
  write: 'embedding cache: storing failed; those images are not cached',
  evict: 'embedding cache: removing evicted objects failed; they stay behind unread',
  damaged: 'embedding cache: a stored entry is damaged; it is extracted again',
};

/** The prefix under which a tenant's cached outputs lie in the artifact store. */
export const embeddingsPrefix = (tenantId: string) => `embeddings/${tenantId}`;

/**
 * What identifies a base's weights: sha256 over its topology, weight specs and weight bytes.
 * Two bases with this digest compute the same outputs, whatever they were called or where they
 * were loaded from.
 */
export function baseModelDigest(artifacts: tf.io.ModelArtifacts): string {
  const hash = createHash('sha256').update('graft-base/1\n');
  const topology = artifacts.modelTopology;
  if (topology instanceof ArrayBuffer) hash.update(new Uint8Array(topology));
  else hash.update(JSON.stringify(topology ?? null));
  hash
    .update('\n')
    .update(JSON.stringify(artifacts.weightSpecs ?? []))
    .update('\n');
  const data = artifacts.weightData;
  for (const part of data === undefined ? [] : Array.isArray(data) ? data : [data]) {
    hash.update(new Uint8Array(part));
  }
  return hash.digest('hex');
}

/** Runs `work` over `items`, at most `limit` at a time; `work` handles its own failures. */
async function forEachBounded<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * One tenant's embedding cache for one base: each image's frozen outputs (upright or mirrored)
 * as one object under `embeddings/<tenantId>/`, named by a hash of the base's digest, the
 * core's context, the image's content hash and the flip. PostgreSQL indexes the objects
 * (db/embedding-cache.repository.ts): an object is read only while its row, under this tenant,
 * exists, so nothing is shared between tenants and an evicted entry is a miss. Past the budget,
 * least recently used rows go first, then their objects.
 *
 * The cache only ever saves work: a failure of the store or the database, or a damaged object,
 * is a miss (the core extracts the image again) or an entry not stored, never a failed run.
 */
export class TenantEmbeddings implements EmbeddingCache {
  private readonly warned = new Set<Failure>();
  private readonly concurrency: number;

  constructor(private readonly options: TenantEmbeddingsOptions) {
    if (!UUID.test(options.tenantId)) throw new Error(`not a tenant id: ${options.tenantId}`);
    this.concurrency = Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY);
  }

  private get enabled(): boolean {
    return this.options.budgetBytes > 0;
  }

  /** The entry's name: the same inputs give the same key, for this tenant and no other. */
  keyOf(context: string, contentHash: string, mirrored: boolean): string {
    const { tenantId, baseDigest } = this.options;
    const named = ['graft-embedding/1', tenantId, baseDigest, context, contentHash, mirrored];
    return createHash('sha256').update(JSON.stringify(named)).digest('hex');
  }

  private objectKey(key: string): string {
    return `${embeddingsPrefix(this.options.tenantId)}/${key}`;
  }

  private warn(failure: Failure, error: unknown): void {
    if (this.warned.has(failure)) return;
    this.warned.add(failure);
    this.options.onWarning?.(MESSAGES[failure], error);
  }

  async get(
    context: string,
    requests: readonly { contentHash: string; mirrored: boolean }[],
  ): Promise<(Float32Array[] | undefined)[]> {
    const misses = requests.map((): Float32Array[] | undefined => undefined);
    if (!this.enabled || requests.length === 0) return misses;
    const keys = requests.map((r) => this.keyOf(context, r.contentHash, r.mirrored));
    let indexed: Set<string>;
    try {
      indexed = await this.options.index.touch(this.options.tenantId, keys);
    } catch (error) {
      this.warn('read', error);
      return misses;
    }
    const found = new Map<string, Float32Array[]>();
    await forEachBounded([...indexed], this.concurrency, async (key) => {
      const outputs = await this.read(key);
      if (outputs) found.set(key, outputs);
    });
    const given = new Set<string>();
    return keys.map((key) => {
      const outputs = found.get(key);
      if (!outputs) return undefined;
      // The same image twice in a batch gets arrays of its own each time.
      if (given.has(key)) return outputs.map((output) => output.slice());
      given.add(key);
      return outputs;
    });
  }

  /** One entry's outputs, or undefined: missing (a put in flight, an eviction), unreadable, damaged. */
  private async read(key: string): Promise<Float32Array[] | undefined> {
    let bytes: Buffer;
    try {
      bytes = await this.options.store.get(this.objectKey(key));
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') this.warn('read', error);
      return undefined;
    }
    const outputs = decodeEmbedding(key, bytes);
    if (!outputs) this.warn('damaged', new Error(`${this.objectKey(key)} failed its checks`));
    return outputs;
  }

  async put(
    context: string,
    entries: readonly { contentHash: string; mirrored: boolean; outputs: Float32Array[] }[],
  ): Promise<void> {
    if (!this.enabled || entries.length === 0) return;
    const { index, store, tenantId, budgetBytes } = this.options;
    try {
      const objects = new Map<string, Buffer>();
      const hashes = new Map<string, string>();
      for (const entry of entries) {
        const key = this.keyOf(context, entry.contentHash, entry.mirrored);
        const bytes = encodeEmbedding(key, entry.outputs);
        // An entry larger than the whole budget would only push everything else out.
        if (bytes.byteLength > budgetBytes) continue;
        objects.set(key, bytes);
        hashes.set(key, entry.contentHash);
      }
      if (objects.size === 0) return;
      // The row first: a crash before the object is written leaves a row that reads as a
      // miss and is evicted in its turn, not an object nothing accounts for.
      const rows = [...objects].map(([key, bytes]) => ({
        key,
        contentHash: hashes.get(key)!,
        bytes: bytes.byteLength,
      }));
      await index.record(tenantId, rows);
      const failed: string[] = [];
      await forEachBounded([...objects], this.concurrency, async ([key, bytes]) => {
        await store.put(this.objectKey(key), bytes).catch((error: unknown) => {
          failed.push(key);
          this.warn('write', error);
        });
      });
      if (failed.length > 0) await index.forget(tenantId, failed);
      await this.evict();
    } catch (error) {
      this.warn('write', error);
    }
  }

  /** Past the budget, rows go (least recently used first), then their objects. */
  private async evict(): Promise<void> {
    const { index, store, tenantId, budgetBytes } = this.options;
    if ((await index.totalBytes(tenantId)) <= budgetBytes) return;
    const evicted = await index.evictBeyond(tenantId, Math.floor(budgetBytes * LOW_WATER));
    await forEachBounded(evicted, this.concurrency, async (key) => {
      await store.remove(this.objectKey(key)).catch((error: unknown) => this.warn('evict', error));
    });
  }
}

/** The tenant's cache for one base, or none when the budget is 0 (the cache is off). */
export function tenantEmbeddings(options: TenantEmbeddingsOptions): TenantEmbeddings | undefined {
  return options.budgetBytes > 0 ? new TenantEmbeddings(options) : undefined;
}

/**
 * Deletes the rows of every tenant's entries unused for EMBEDDING_MAX_IDLE_DAYS, a thousand at
 * a time, then their objects; says how many objects went. An object that fails to go is
 * unread and left to the sweep of objects without a row.
 */
export async function expireEmbeddings(
  store: ArtifactStore,
  index: EmbeddingCacheRepository,
  maxIdleMs = MAX_IDLE_MS,
): Promise<number> {
  let removed = 0;
  for (;;) {
    const expired = await index.expire(maxIdleMs);
    await forEachBounded(expired, DEFAULT_CONCURRENCY, async ({ tenantId, key }) => {
      // Never a path elsewhere in the store, whatever a row says.
      if (!UUID.test(tenantId) || !KEY.test(key)) return;
      const gone = await store.remove(`${embeddingsPrefix(tenantId)}/${key}`).then(
        () => true,
        () => false,
      );
      if (gone) removed++;
    });
    if (expired.length === 0) return removed;
  }
}
