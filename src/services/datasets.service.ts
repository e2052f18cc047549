import { randomUUID } from 'node:crypto';
import type { Config } from '../config/config.js';
import type { DatasetsRepository, NewDatasetImage } from '../db/datasets.repository.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import {
  DatasetArchiveError,
  readDatasetArchive,
  type DatasetArchiveErrorCode,
} from '../storage/dataset-archive.js';
import type { DatasetReportView, DatasetView } from '../contracts/resource-views.js';
import { datasetReport } from '../training/dataset-report.js';
import { DomainError, notFound } from './domain-error.js';

/** A zip that cannot be read is a bad request; one too big to inflate is too large. */
const ARCHIVE_STATUS: Record<DatasetArchiveErrorCode, number> = {
  invalid_archive: 400,
  invalid_file_name: 400,
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
    rejected: row.rejected as { path: string; reason: string }[],
    report: (row.report as DatasetReportView | null) ?? null,
    createdAt: row.createdAt.toISOString(),
  };
}

export class DatasetsService {
  constructor(
    private readonly datasets: DatasetsRepository,
    private readonly store: ArtifactStore,
    private readonly config: Config,
  ) {}

  /**
   * Creates a dataset from an uploaded zip. Images are stored as they are validated; if the
   * dataset turns out unusable (too few classes or images) or anything fails, every stored
   * file is removed and no row is written.
   */
  async createFromZip(tenantId: string, zipPath: string, sizeBytes: number, name?: string) {
    const id = randomUUID();
    const prefix = `datasets/${id}`;
    const images: NewDatasetImage[] = [];
    try {
      const summary = await readDatasetArchive(zipPath, async (image) => {
        if (images.length >= this.config.maxImagesPerDataset) {
          throw new DomainError(
            413,
            'too_many_images',
            `a dataset may hold at most ${this.config.maxImagesPerDataset} images`,
          );
        }
        const storageKey = `${prefix}/images/${images.length}${image.extension}`;
        await this.store.put(storageKey, image.data);
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
      const classes = this.classesOf(images, summary.split);
      const row = await this.datasets.create({
        id,
        tenantId,
        name: name?.trim() || `dataset-${id.slice(0, 8)}`,
        classes,
        rejected: summary.rejected,
        split: summary.split ? 'given' : 'none',
        sizeBytes,
        images,
        report: datasetReport(images),
      });
      return datasetView(row);
    } catch (error) {
      await this.store.remove(prefix);
      if (error instanceof DatasetArchiveError) {
        throw new DomainError(ARCHIVE_STATUS[error.code], error.code, error.message);
      }
      throw error;
    }
  }

  private classesOf(
    images: readonly NewDatasetImage[],
    split: boolean,
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
        `a dataset needs at least 2 class folders with images; found ${classes.length}`,
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
