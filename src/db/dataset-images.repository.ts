import type { Db } from './prisma-client.js';

export interface ImageFilter {
  label?: string;
  split?: 'train' | 'val';
}

const LISTED = {
  id: true,
  path: true,
  label: true,
  split: true,
  width: true,
  height: true,
  bytes: true,
} as const;

/** A dataset's image rows, read for its owner only: another tenant's dataset has none. */
export class DatasetImagesRepository {
  constructor(private readonly db: Db) {}

  /** One page of the dataset's images by class, then path (the id breaks no tie: paths are unique). */
  page(
    tenantId: string,
    datasetId: string,
    filter: ImageFilter,
    page: { limit: number; offset: number },
  ) {
    const where = {
      datasetId,
      dataset: { tenantId },
      ...(filter.label !== undefined ? { label: filter.label } : {}),
      ...(filter.split !== undefined ? { split: filter.split } : {}),
    };
    return this.db.$transaction([
      this.db.datasetImage.findMany({
        where,
        orderBy: [{ label: 'asc' }, { path: 'asc' }, { id: 'asc' }],
        take: page.limit,
        skip: page.offset,
        select: LISTED,
      }),
      this.db.datasetImage.count({ where }),
    ]);
  }

  /** The image with this id in this dataset of this tenant, or null. */
  find(tenantId: string, datasetId: string, imageId: string) {
    return this.db.datasetImage.findFirst({
      where: { id: imageId, datasetId, dataset: { tenantId } },
      select: { id: true, storageKey: true },
    });
  }
}
