import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.js';
import { checkName } from '../contracts/names.js';
import type { QuotaLimits } from '../contracts/quotas.js';
import type { DatasetsRepository, NewDatasetImage } from '../db/datasets.repository.js';
import type { TenantsRepository, TenantUsage } from '../db/tenants.repository.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import {
  DatasetArchiveError,
  readDatasetArchive,
  type DatasetArchiveErrorCode,
} from '../storage/dataset-archive.js';
import type { DatasetReportView, DatasetView } from '../contracts/resource-views.js';
import { datasetReport } from '../training/dataset-report.js';
import { DomainError, notFound, storageFailure } from './domain-error.js';
import { quotaExceeded } from './quotas.service.js';

/** What a refused upload skipped, for its message: a zip of unreadable files says why it is empty. */
function skipped(rejected: readonly { path: string; reason: string }[]): string {
  if (rejected.length === 0) return '';
  const shown = rejected.slice(0, 3).map((r) => `${r.path} (${r.reason})`);
  const more = rejected.length > 3 ? `, and ${rejected.length - 3} more` : '';
  return ` (${rejected.length} file${rejected.length === 1 ? ' was' : 's were'} skipped: ${shown.join(', ')}${more})`;
}

/** Views list this many rejected files; `rejectedCount` says how many there were. */
export const REJECTED_SHOWN = 100;

/** A zip that cannot be read is a bad request; one too big to inflate is too large. */
const ARCHIVE_STATUS: Record<DatasetArchiveErrorCode, number> = {
  invalid_archive: 400,
  invalid_file_name: 400,
  invalid_label: 400,
  unsafe_path: 400,
  too_many_files: 413,
  file_too_large: 413,
  zip_bomb: 413,
  archive_too_large: 413,
};

type DatasetRow = NonNullable<Awaited<ReturnType<DatasetsRepository['find']>>>;

export function datasetView(row: DatasetRow): DatasetView {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    imageCount: row.imageCount,
    split: row.split as DatasetView['split'],
    classes: row.classes as { name: string; count: number }[],
    rejected: (row.rejected as { path: string; reason: string }[]).slice(0, REJECTED_SHOWN),
    rejectedCount: row.rejectedCount,
    report: (row.report as DatasetReportView | null) ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The NFC form of the name a dataset was given, or undefined for none; 400 if unusable. */
function checkDatasetName(name: string | undefined): string | undefined {
  const trimmed = name?.trim();
  if (!trimmed) return undefined;
  const check = checkName(trimmed);
  if (!check.ok) throw new DomainError(400, 'invalid_name', `the dataset name ${check.reason}`);
  return check.name;
}

/** Refuses what is over quota before anything is inflated or stored. */
function checkBeforeInflating(limits: QuotaLimits, usage: TenantUsage, zipBytes: number): void {
  if (usage.datasets >= limits.datasets) {
    throw quotaExceeded({
      quota: 'datasets',
      limit: limits.datasets,
      used: usage.datasets,
      requested: 1,
    });
  }
  // Images hardly compress, so a zip larger than the bytes left would not fit once stored.
  if (usage.storedBytes + zipBytes > limits.storedBytes) {
    throw quotaExceeded({
      quota: 'storedBytes',
      limit: limits.storedBytes,
      used: usage.storedBytes,
      requested: zipBytes,
    });
  }
}

/** Counts what a dataset being read stores; throws once it passes a quota. */
function readingBudget(limits: QuotaLimits, usage: TenantUsage): (bytes: number) => void {
  let images = 0;
  let bytes = 0;
  return (size) => {
    images += 1;
    bytes += size;
    if (images > limits.imagesPerDataset) {
      const limit = limits.imagesPerDataset;
      throw quotaExceeded({ quota: 'imagesPerDataset', limit, used: images, requested: images });
    }
    if (usage.storedBytes + bytes > limits.storedBytes) {
      throw quotaExceeded({
        quota: 'storedBytes',
        limit: limits.storedBytes,
        used: usage.storedBytes,
        requested: bytes,
      });
    }
  };
}

/** Images written to the store at once while a dataset is ingested. */
const PARALLEL_PUTS = 16;

export class DatasetsService {
  constructor(
    private readonly datasets: DatasetsRepository,
    private readonly store: ArtifactStore,
    private readonly config: Config,
    private readonly tenants: TenantsRepository,
  ) {}

  /**
   * Refuses an upload before its body is read when the tenant holds all the datasets it may,
   * or has no stored bytes left: a 2 GiB body is not worth receiving to answer 403.
   */
  async admitUpload(tenantId: string): Promise<void> {
    const [limits, usage] = [
      await this.tenants.limits(tenantId),
      await this.tenants.usage(tenantId),
    ];
    // Any upload stores at least a byte.
    checkBeforeInflating(limits, usage, 1);
  }

  /**
   * Creates a dataset from an uploaded zip. Images are stored as they are validated; if the
   * dataset turns out unusable (too few classes or images), over a quota, or anything fails,
   * every stored file is removed and no row is written; a disk fault is 507 or 500
   * (`storageFailure`), never a rejected image. Quotas are checked before inflating
   * (datasets held; a zip larger than the bytes left), while reading (images, bytes), and
   * again, authoritatively, when the row is written.
   */
  async createFromZip(tenantId: string, zipPath: string, zipBytes: number, name?: string) {
    const id = randomUUID();
    const datasetName = checkDatasetName(name) ?? `dataset-${id.slice(0, 8)}`;
    const limits = await this.tenants.limits(tenantId);
    const usage = await this.tenants.usage(tenantId);
    checkBeforeInflating(limits, usage, zipBytes);
    const prefix = `datasets/${id}`;
    const images: NewDatasetImage[] = [];
    const spend = readingBudget(limits, usage);
    // Images go to the store a few at a time (a PUT to S3 takes tens of milliseconds); the
    // first failure stops the upload.
    const writing = new Set<Promise<void>>();
    let failed: { error: unknown } | undefined;
    const store = (key: string, data: Buffer) => {
      const put: Promise<void> = this.store
        .put(key, data)
        .catch((error: unknown) => void (failed ??= { error }))
        .finally(() => writing.delete(put));
      writing.add(put);
    };
    try {
      const summary = await readDatasetArchive(zipPath, async (image) => {
        if (failed) throw failed.error;
        spend(image.data.length);
        const storageKey = `${prefix}/images/${images.length}${image.extension}`;
        store(storageKey, image.data);
        if (writing.size >= PARALLEL_PUTS) await Promise.race(writing);
        images.push({
          path: image.path,
          label: image.label,
          split: image.split ?? null,
          storageKey,
          width: image.width,
          height: image.height,
          bytes: image.data.length,
          contentHash: image.contentHash,
          grey: image.grey,
        });
      });
      await Promise.all(writing);
      if (failed) throw failed.error;
      const classes = this.classesOf(images, summary.split, summary.rejected);
      const created = await this.datasets.create(
        {
          id,
          tenantId,
          name: datasetName,
          classes,
          rejected: summary.rejected.slice(0, REJECTED_SHOWN),
          rejectedCount: summary.rejected.length,
          split: summary.split ? 'given' : 'none',
          sizeBytes: images.reduce((sum, image) => sum + image.bytes, 0),
          images,
          report: datasetReport(images),
        },
        limits,
      );
      if ('breach' in created) throw quotaExceeded(created.breach);
      return datasetView(created.dataset);
    } catch (error) {
      // The failure is what the client needs to hear: a store that also fails to remove (the
      // disk that failed the write) leaves files the reaper finds as orphans. Writes still in
      // flight land first, so none outlives the removal.
      await Promise.allSettled([...writing]);
      await this.store.remove(prefix).catch(() => undefined);
      if (error instanceof DatasetArchiveError) {
        throw new DomainError(ARCHIVE_STATUS[error.code], error.code, error.message);
      }
      throw storageFailure(error, 'this dataset') ?? error;
    }
  }

  private classesOf(
    images: readonly NewDatasetImage[],
    split: boolean,
    rejected: readonly { path: string; reason: string }[],
  ): { name: string; count: number }[] {
    const counts = new Map<string, number>();
    for (const image of images) counts.set(image.label, (counts.get(image.label) ?? 0) + 1);
    const classes = [...counts]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([className, count]) => ({ name: className, count }));
    if (classes.length < 2) {
      throw new DomainError(
        422,
        'too_few_classes',
        `a dataset needs at least 2 class folders with images; found ${classes.length}${skipped(rejected)}`,
        rejected.length > 0 ? { rejected: rejected.slice(0, REJECTED_SHOWN) } : undefined,
      );
    }
    const small = classes.filter((c) => c.count < this.config.minImagesPerClass);
    if (small.length > 0) {
      throw new DomainError(
        422,
        'too_few_images',
        `each class needs at least ${this.config.minImagesPerClass} images: ${small.map((c) => `${c.name} has ${c.count}`).join(', ')}`,
      );
    }
    if (split) {
      const trainless = classes.filter(
        (c) => !images.some((i) => i.label === c.name && i.split === 'train'),
      );
      if (trainless.length > 0) {
        throw new DomainError(
          422,
          'no_training_images',
          `classes with no images under train/: ${trainless.map((c) => c.name).join(', ')}`,
        );
      }
    }
    return classes;
  }

  async get(tenantId: string, id: string) {
    const row = await this.datasets.find(tenantId, id);
    if (!row) throw notFound('dataset', id);
    return datasetView(row);
  }

  async list(tenantId: string, page: { limit: number; offset: number }) {
    const [rows, total] = await this.datasets.list(tenantId, page);
    return { items: rows.map(datasetView), total, ...page };
  }

  /**
   * Deletes the dataset, its images and the tenant's cached embeddings of images no other of
   * its datasets holds (their rows, in the same transaction: nothing reads them after; the
   * reaper's sweep removes their objects, too many for a request to wait on).
   */
  async delete(tenantId: string, id: string): Promise<void> {
    const outcome = await this.datasets.deleteUnlessInUse(tenantId, id);
    if (outcome === 'missing') throw notFound('dataset', id);
    if (outcome === 'in_use')
      throw new DomainError(
        409,
        'dataset_in_use',
        `dataset ${id} is used by a queued or running job; cancel it first`,
      );
    await this.store.remove(`datasets/${id}`);
  }
}
