import type { EmbeddingCacheRepository } from '../db/embedding-cache.repository.js';
import type { ModelsRepository } from '../db/models.repository.js';
import type { TrainingJobsRepository } from '../db/training-jobs.repository.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { embeddingsPrefix, expireEmbeddings } from '../storage/embedding-cache.js';
import { removeOldFiles } from '../storage/temp-files.js';

export interface SweepDeps {
  jobs: TrainingJobsRepository;
  models: ModelsRepository;
  store: ArtifactStore;
  /** Where the API writes uploads while it receives them (`<dataDir>/tmp`, api/app.ts). */
  uploadTmpDir: string;
  /** The embedding cache's index; without it, `embeddings/` is not swept. */
  embeddings?: EmbeddingCacheRepository;
}

/** What one sweep removed. */
export interface SweepCounts {
  uploads: number;
  unfinishedWrites: number;
  modelFolders: number;
  checkpointFolders: number;
  datasetFolders: number;
  /** Cached embeddings removed: those of entries expired, and objects found without a row. */
  embeddingObjects: number;
}

/** Runs one step of a pass; a step that throws gives undefined (it is logged), the rest go on. */
export type Guarded = <T>(what: string, step: () => Promise<T>) => Promise<T | undefined>;

/**
 * Job and dataset ids are UUIDs; a folder named otherwise belongs to no row (and Postgres
 * refuses to compare it).
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The id a `checkpoints/<jobId>` or `datasets/<id>` folder is named after, as Postgres spells it. */
const idOf = (key: string) => key.slice(key.lastIndexOf('/') + 1).toLowerCase();

/**
 * Removes files nobody owns any more. Ages guard what a live process may still be writing:
 * an upload in progress keeps its temp file fresh, a dataset's images are stored before its
 * Dataset row is written, and a run writes its model's artifacts just before its Model row
 * appears. Checkpoints need no age: a job writes them only while it is queued or running (its
 * row exists first), so those of an ended or deleted job are dead.
 */
export async function sweepOrphans(
  deps: SweepDeps,
  orphanAgeMs: number,
  guarded: Guarded,
  now = Date.now(),
): Promise<SweepCounts> {
  const olderThan = new Date(now - orphanAgeMs);
  const step = async (what: string, run: () => Promise<number>) =>
    (await guarded(`sweeping ${what}`, run)) ?? 0;
  return {
    uploads: await step('upload temp files', () => removeOldFiles(deps.uploadTmpDir, olderThan)),
    unfinishedWrites: await step('unfinished writes', () =>
      deps.store.removeUnfinishedWrites(olderThan),
    ),
    modelFolders: await step('model folders', () => removeUnownedModels(deps, olderThan)),
    checkpointFolders: await step('checkpoints', () => removeEndedCheckpoints(deps)),
    datasetFolders: await step('dataset folders', () => removeUnownedDatasets(deps, olderThan)),
    embeddingObjects:
      (await step('expired cached embeddings', () => expireCachedEmbeddings(deps))) +
      (await step('cached embeddings', () => removeUnindexedEmbeddings(deps, olderThan))),
  };
}

/** Removes each entry `keep` does not claim, one at a time; how many went. */
async function removeUnless(
  deps: SweepDeps,
  entries: readonly { key: string }[],
  keep: (key: string) => boolean,
): Promise<number> {
  let removed = 0;
  for (const { key } of entries) {
    if (keep(key)) continue;
    await deps.store.remove(key);
    removed++;
  }
  return removed;
}

/** Model folders with no Model row: a run that died after writing, or a delete half done. */
async function removeUnownedModels(deps: SweepDeps, olderThan: Date): Promise<number> {
  const old = (await deps.store.list('models')).filter(
    (entry) => entry.kind === 'prefix' && entry.modifiedAt < olderThan,
  );
  const owned = await deps.models.withArtifactKeys(old.map((entry) => entry.key));
  return removeUnless(deps, old, (key) => owned.has(key));
}

/** Checkpoint folders (`checkpoints/<jobId>`) of jobs no longer queued or running. */
async function removeEndedCheckpoints(deps: SweepDeps): Promise<number> {
  const folders = (await deps.store.list('checkpoints')).filter((entry) => entry.kind === 'prefix');
  const ids = folders.map((entry) => idOf(entry.key)).filter((id) => UUID.test(id));
  const active = await deps.jobs.activeIds(ids);
  return removeUnless(deps, folders, (key) => active.has(idOf(key)));
}

/**
 * Dataset folders (`datasets/<id>`) with no Dataset row: an upload whose API died before the
 * row was written, or a removal that failed (a failed upload's cleanup, or a delete's after
 * its row went). Only old ones: an upload in progress writes its images before its row.
 */
async function removeUnownedDatasets(deps: SweepDeps, olderThan: Date): Promise<number> {
  const old = (await deps.store.list('datasets')).filter(
    (entry) => entry.kind === 'prefix' && entry.modifiedAt < olderThan,
  );
  const ids = old.map((entry) => idOf(entry.key)).filter((id) => UUID.test(id));
  const owned = await deps.jobs.existingDatasetIds(ids);
  return removeUnless(deps, old, (key) => owned.has(idOf(key)));
}

/** Rows unused for EMBEDDING_MAX_IDLE_DAYS, of every tenant, then their objects. */
async function expireCachedEmbeddings(deps: SweepDeps): Promise<number> {
  return deps.embeddings ? expireEmbeddings(deps.store, deps.embeddings) : 0;
}

/**
 * The tenant each sweeper (one `deps` per reaper) swept the embeddings of last: each sweep
 * takes the next, since listing every tenant's objects and asking the database about each
 * thousand keys, in every worker every few minutes, cost far more than what it finds.
 */
const lastTenantSwept = new WeakMap<SweepDeps, string>();

/**
 * Cached embeddings (`embeddings/<tenantId>/<key>`) with no row, of one tenant per sweep in
 * rotation: an eviction whose process died between removing the row and the object, a removal
 * that failed, rows gone with the tenant's last dataset holding their image, or a deleted
 * tenant's. Nothing reads an object without its row, so these are dead; the age only spares a
 * put in flight whose row is being written again. A sweeper starts at a random tenant, so a
 * fleet's workers started together do not all sweep the same one.
 */
async function removeUnindexedEmbeddings(deps: SweepDeps, olderThan: Date): Promise<number> {
  const index = deps.embeddings;
  if (!index) return 0;
  const tenants = (await deps.store.list('embeddings'))
    .filter((entry) => entry.kind === 'prefix' && UUID.test(idOf(entry.key)))
    .map((entry) => idOf(entry.key))
    .sort();
  if (tenants.length === 0) return 0;
  const last = lastTenantSwept.get(deps);
  const tenantId =
    last === undefined
      ? tenants[Math.floor(Math.random() * tenants.length)]!
      : (tenants.find((id) => id > last) ?? tenants[0]!);
  lastTenantSwept.set(deps, tenantId);
  const old = (await deps.store.list(embeddingsPrefix(tenantId))).filter(
    (entry) => entry.kind === 'object' && entry.modifiedAt < olderThan,
  );
  const indexed = await index.existing(
    tenantId,
    old.map((entry) => idOf(entry.key)),
  );
  return removeUnless(deps, old, (key) => indexed.has(idOf(key)));
}
