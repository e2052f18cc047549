import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/db/prisma-client.js';
import type { Prisma } from '../../src/db/generated/client.js';
import { resolveTrainingSpec } from '../../src/contracts/training-spec.js';
import { TrainingJobsRepository } from '../../src/db/training-jobs.repository.js';
import type { ArtifactStore } from '../../src/storage/artifact-store.js';

export interface SeededJob {
  tenantId: string;
  datasetId: string;
  jobId: string;
}

/** A new tenant's id. */
export async function seedTenant(db: Db): Promise<string> {
  return (await db.tenant.create({ data: { name: `tenant-${randomUUID()}` } })).id;
}

/**
 * A tenant (`tenantId`, or a new one), a two-image dataset (one image given a split, one not;
 * their bytes in `store`) and a queued job on it; `row` then overwrites job columns, e.g. to
 * leave it running.
 */
export async function seedJob(
  db: Db,
  store: ArtifactStore,
  row: Prisma.TrainingJobUpdateInput = {},
  tenantId?: string,
): Promise<SeededJob> {
  const tenant = { id: tenantId ?? (await seedTenant(db)) };
  const dataset = await db.dataset.create({
    data: {
      tenantId: tenant.id,
      name: 'colours',
      imageCount: 2,
      classes: [
        { name: 'blue', count: 1 },
        { name: 'red', count: 1 },
      ],
      rejected: [],
      split: 'none',
      sizeBytes: 16n,
    },
  });
  const images = [
    { label: 'blue', split: 'train' },
    { label: 'red', split: null },
  ].map(({ label, split }) => ({
    datasetId: dataset.id,
    path: `${label}/0.jpg`,
    label,
    split,
    storageKey: `datasets/${dataset.id}/${label}-0.jpg`,
    width: 8,
    height: 8,
    bytes: 8,
    contentHash: `hash-of-${label}`,
  }));
  for (const image of images) await store.put(image.storageKey, `${image.label} pixels`);
  await db.datasetImage.createMany({ data: images });
  const spec = resolveTrainingSpec({}) as unknown as Prisma.InputJsonValue;
  const job = await new TrainingJobsRepository(db).create({
    tenantId: tenant.id,
    datasetId: dataset.id,
    spec,
  });
  if (Object.keys(row).length > 0)
    await db.trainingJob.update({ where: { id: job.id }, data: row });
  return { tenantId: tenant.id, datasetId: dataset.id, jobId: job.id };
}
