import type { QuotaBreach, QuotaLimits } from '../contracts/quotas.js';
import type { DatasetReport } from '../training/dataset-report.js';
import { forgetDatasetEmbeddings } from './embedding-cache.repository.js';
import type { Prisma } from './generated/client.js';
import type { Db } from './prisma-client.js';
import { lockTenant, QuotaBreachRollback } from './tenants.repository.js';

export interface NewDatasetImage {
  path: string;
  label: string;
  split: 'train' | 'val' | null;
  storageKey: string;
  width: number;
  height: number;
  bytes: number;
  contentHash: string;
  grey: boolean;
}

export interface NewDataset {
  id: string;
  tenantId: string;
  name: string;
  classes: { name: string; count: number }[];
  /** The first few rejected files, and how many there were in all. */
  rejected: { path: string; reason: string }[];
  rejectedCount: number;
  split: 'given' | 'none';
  /** Bytes of the stored images. */
  sizeBytes: number;
  images: NewDatasetImage[];
  report: DatasetReport;
}

type DatasetRow = Prisma.DatasetGetPayload<object>;

/** Tens of thousands of image rows outlast Prisma's 5 s default for a transaction. */
const INSERT_TIMEOUT = { maxWait: 10_000, timeout: 120_000 };

/** Counts include the dataset being inserted (this transaction sees its own row). */
async function checkStock(
  tx: Prisma.TransactionClient,
  dataset: NewDataset,
  limits: Pick<QuotaLimits, 'datasets' | 'storedBytes'>,
): Promise<void> {
  const where = { tenantId: dataset.tenantId };
  const count = await tx.dataset.count({ where });
  if (count > limits.datasets) {
    throw new QuotaBreachRollback({
      quota: 'datasets',
      limit: limits.datasets,
      used: count - 1,
      requested: 1,
    });
  }
  const sum = await tx.dataset.aggregate({ where, _sum: { sizeBytes: true } });
  const bytes = Number(sum._sum.sizeBytes ?? 0n);
  if (bytes > limits.storedBytes) {
    throw new QuotaBreachRollback({
      quota: 'storedBytes',
      limit: limits.storedBytes,
      used: bytes - dataset.sizeBytes,
      requested: dataset.sizeBytes,
    });
  }
}

export class DatasetsRepository {
  constructor(private readonly db: Db) {}

  /**
   * Inserts the dataset and its images unless that takes the tenant past `datasets` or
   * `storedBytes`; then nothing is written and the breach is returned. The check runs last,
   * under the tenant's lock, so the lock is held for a moment, not for the image inserts.
   */
  async create(
    dataset: NewDataset,
    limits: Pick<QuotaLimits, 'datasets' | 'storedBytes'>,
  ): Promise<{ dataset: DatasetRow } | { breach: QuotaBreach }> {
    try {
      const created = await this.db.$transaction(async (tx) => {
        const created = await tx.dataset.create({
          data: {
            id: dataset.id,
            tenantId: dataset.tenantId,
            name: dataset.name,
            imageCount: dataset.images.length,
            classes: dataset.classes,
            rejected: dataset.rejected,
            rejectedCount: dataset.rejectedCount,
            split: dataset.split,
            report: dataset.report,
            sizeBytes: BigInt(dataset.sizeBytes),
          },
        });
        for (let i = 0; i < dataset.images.length; i += 5000) {
          await tx.datasetImage.createMany({
            data: dataset.images
              .slice(i, i + 5000)
              .map((image) => ({ ...image, datasetId: dataset.id })),
          });
        }
        await lockTenant(tx, dataset.tenantId);
        await checkStock(tx, dataset, limits);
        return created;
      }, INSERT_TIMEOUT);
      return { dataset: created };
    } catch (error) {
      if (error instanceof QuotaBreachRollback) return { breach: error.breach };
      throw error;
    }
  }

  find(tenantId: string, id: string) {
    return this.db.dataset.findFirst({ where: { id, tenantId } });
  }

  list(tenantId: string, page: { limit: number; offset: number }) {
    return this.db.$transaction([
      this.db.dataset.findMany({
        where: { tenantId },
        orderBy: { createdAt: 'desc' },
        take: page.limit,
        skip: page.offset,
      }),
      this.db.dataset.count({ where: { tenantId } }),
    ]);
  }

  images(datasetId: string) {
    return this.db.datasetImage.findMany({
      where: { datasetId },
      orderBy: { path: 'asc' },
      select: {
        id: true,
        path: true,
        label: true,
        split: true,
        storageKey: true,
        contentHash: true,
      },
    });
  }

  /**
   * Deletes unless a queued or running job uses it; returns why not, if not. The tenant's
   * cached embeddings of images no other of its datasets holds go with it.
   */
  async deleteUnlessInUse(tenantId: string, id: string): Promise<'deleted' | 'missing' | 'in_use'> {
    return this.db.$transaction(async (tx: Prisma.TransactionClient) => {
      const dataset = await tx.dataset.findFirst({ where: { id, tenantId } });
      if (!dataset) return 'missing';
      const active = await tx.trainingJob.count({
        where: { datasetId: id, status: { in: ['queued', 'running'] } },
      });
      if (active > 0) return 'in_use';
      // Before the images go: they say which cached embeddings were this dataset's.
      await forgetDatasetEmbeddings(tx, tenantId, id);
      await tx.dataset.delete({ where: { id } });
      return 'deleted';
    });
  }
}
