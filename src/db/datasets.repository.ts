import type { DatasetReport } from '../training/dataset-report.js';
import type { Prisma } from './generated/client.js';
import type { Db } from './prisma-client.js';

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
  rejected: { path: string; reason: string }[];
  split: 'given' | 'none';
  sizeBytes: number;
  images: NewDatasetImage[];
  report: DatasetReport;
}

export class DatasetsRepository {
  constructor(private readonly db: Db) {}

  async create(dataset: NewDataset) {
    return this.db.$transaction(async (tx) => {
      const created = await tx.dataset.create({
        data: {
          id: dataset.id,
          tenantId: dataset.tenantId,
          name: dataset.name,
          imageCount: dataset.images.length,
          classes: dataset.classes,
          rejected: dataset.rejected,
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
      return created;
    });
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

  /** Deletes unless a queued or running job uses it; returns why not, if not. */
  async deleteUnlessInUse(tenantId: string, id: string): Promise<'deleted' | 'missing' | 'in_use'> {
    return this.db.$transaction(async (tx: Prisma.TransactionClient) => {
      const dataset = await tx.dataset.findFirst({ where: { id, tenantId } });
      if (!dataset) return 'missing';
      const active = await tx.trainingJob.count({
        where: { datasetId: id, status: { in: ['queued', 'running'] } },
      });
      if (active > 0) return 'in_use';
      await tx.dataset.delete({ where: { id } });
      return 'deleted';
    });
  }
}
