import type { DatasetImageView } from '../contracts/resource-views.js';
import type { DatasetImagesRepository } from '../db/dataset-images.repository.js';
import type { DatasetsRepository } from '../db/datasets.repository.js';
import { isMissing, type ArtifactStore } from '../storage/artifact-store.js';
import { ImageDecodeError } from '../storage/image-decoder.js';
import { renderThumbnail, thumbnailKey, THUMBNAIL_VERSION } from '../storage/thumbnails.js';
import { DomainError, notFound, unavailable } from './domain-error.js';
import { busy } from './predictions.service.js';
import { Slots } from './slots.js';

export interface ImageQuery {
  class?: string;
  split?: 'train' | 'val';
  limit: number;
  offset: number;
}

/** How much thumbnail rendering one process takes on. */
export interface ThumbnailLimits {
  /** Thumbnails rendered at once; the rest wait their turn. */
  concurrency: number;
  /** A thumbnail still waiting for its turn after this long gets 503 `busy`. */
  waitMs: number;
  /** Thumbnails that may wait for a turn; beyond them, 503 `busy` at once. */
  maxWaiting: number;
}

/**
 * Half the process's decode budget (GRAFT_DECODE_CONCURRENCY), at least one: a console
 * opening a grid of 60 thumbnails must leave decoding, and libuv's threads, to predictions.
 */
export const thumbnailLimitsFor = (decodeConcurrency: number): ThumbnailLimits => ({
  concurrency: Math.max(1, Math.floor(decodeConcurrency / 2)),
  waitMs: 10_000,
  maxWaiting: 256,
});

/** A thumbnail, or only its ETag when the client's copy is current (answer 304). */
export interface Thumbnail {
  etag: string;
  body?: Buffer;
}

/** The 422 names at most this many of the dataset's classes (the problem's `classes` has all). */
const CLASSES_NAMED = 20;

type ImageRow = Awaited<ReturnType<DatasetImagesRepository['page']>>[0][number];

function imageView(datasetId: string, row: ImageRow): DatasetImageView {
  return {
    id: row.id,
    class: row.label,
    split: row.split as DatasetImageView['split'],
    path: row.path,
    width: row.width,
    height: row.height,
    bytes: row.bytes,
    thumbnailUrl: `/v1/datasets/${datasetId}/images/${row.id}/thumbnail`,
  };
}

/** If-None-Match (weak comparison, as RFC 9110 asks): `*`, or any listed tag equal to ours. */
function matches(ifNoneMatch: string, etag: string): boolean {
  return ifNoneMatch.split(',').some((tag) => {
    const value = tag.trim();
    return value === '*' || value.replace(/^W\//, '') === etag;
  });
}

/** A store that fails a read (S3 unreachable, a disk error): the same request works once it is back. */
function storageUnavailable(error: unknown): DomainError {
  const failure = unavailable(
    'storage_unavailable',
    'the artifact store could not be read; try again shortly',
  );
  failure.cause = error;
  return failure;
}

/**
 * A dataset's images, as the console shows them: listed from their rows (every stored image has
 * one, with its id, class, split and path), and thumbnails rendered once per image and size,
 * then read from the artifact store by every replica.
 */
export class DatasetImagesService {
  private readonly renders: Slots;
  /** Renders in progress by key: concurrent requests for one thumbnail wait on one render. */
  private readonly rendering = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly datasets: DatasetsRepository,
    private readonly images: DatasetImagesRepository,
    private readonly store: ArtifactStore,
    private readonly limits: ThumbnailLimits,
  ) {
    this.renders = new Slots(limits.concurrency, limits.maxWaiting);
  }

  /** A page of the dataset's images by class, then path; 422 for a class or split it lacks. */
  async list(tenantId: string, datasetId: string, query: ImageQuery) {
    const dataset = await this.datasets.find(tenantId, datasetId);
    if (!dataset) throw notFound('dataset', datasetId);
    const classes = (dataset.classes as { name: string }[]).map((c) => c.name);
    if (query.class !== undefined && !classes.includes(query.class)) {
      const named = classes.slice(0, CLASSES_NAMED).join(', ');
      const more =
        classes.length > CLASSES_NAMED ? ` and ${classes.length - CLASSES_NAMED} more` : '';
      throw new DomainError(
        422,
        'unknown_class',
        `dataset ${datasetId} has no class '${query.class}'; its classes: ${named}${more}`,
        { classes },
      );
    }
    if (query.split !== undefined && dataset.split !== 'given') {
      throw new DomainError(
        422,
        'not_split',
        `dataset ${datasetId} was uploaded without train/ and val/ folders, so its images have no split; leave out split`,
      );
    }
    const page = { limit: query.limit, offset: query.offset };
    const [rows, total] = await this.images.page(
      tenantId,
      datasetId,
      { label: query.class, split: query.split },
      page,
    );
    return { items: rows.map((row) => imageView(datasetId, row)), total, ...page };
  }

  /**
   * An image's thumbnail of `size`: from the store when some replica rendered it before, else
   * rendered (waiting for one of the process's render slots) and stored. Images never change,
   * so the ETag is known from the row alone and a current client copy costs no store read.
   */
  async thumbnail(
    tenantId: string,
    datasetId: string,
    imageId: string,
    size: number,
    ifNoneMatch?: string,
  ): Promise<Thumbnail> {
    const image = await this.images.find(tenantId, datasetId, imageId);
    if (!image) throw notFound(`dataset ${datasetId}'s image`, imageId);
    const etag = `"${image.id}-${size}-v${THUMBNAIL_VERSION}"`;
    if (ifNoneMatch !== undefined && matches(ifNoneMatch, etag)) return { etag };
    const key = thumbnailKey(datasetId, image.id, size);
    let body = this.rendering.get(key);
    if (!body) {
      body = this.cachedOrRendered(key, image.storageKey, size).finally(() =>
        this.rendering.delete(key),
      );
      this.rendering.set(key, body);
    }
    return { etag, body: await body };
  }

  private async cachedOrRendered(key: string, imageKey: string, size: number): Promise<Buffer> {
    const cached = await this.read(key);
    if (cached) return cached;
    // The turn first, then the original: a burst of misses waits holding nothing, and at most
    // `maxWaiting` wait at all.
    await this.turn();
    try {
      const image = await this.read(imageKey);
      // Its row was there a moment ago: the dataset was deleted since.
      if (!image) throw new DomainError(404, 'not_found', 'the image was deleted with its dataset');
      const thumbnail = await this.render(image, size);
      // A failed put costs the next request a render, nothing more (the store's error metric
      // counts it). One that lands after the dataset's deletion is an orphan in its folder,
      // which the reaper removes.
      await this.store.put(key, thumbnail).catch(() => undefined);
      return thumbnail;
    } finally {
      this.renders.give();
    }
  }

  private async turn(): Promise<void> {
    try {
      await this.renders.take(AbortSignal.timeout(this.limits.waitMs));
    } catch {
      throw busy('too many thumbnails are being made on this server');
    }
  }

  /**
   * The stored object, or undefined for none. Asked first, so a cache miss is not a failed
   * read in the store's metrics.
   */
  private async read(key: string): Promise<Buffer | undefined> {
    try {
      if (!(await this.store.exists(key))) return undefined;
      return await this.store.get(key);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw storageUnavailable(error);
    }
  }

  private async render(image: Buffer, size: number): Promise<Buffer> {
    try {
      return await renderThumbnail(image, size);
    } catch (error) {
      // Every stored image decoded when it was uploaded: one that no longer does is our fault.
      if (error instanceof ImageDecodeError) {
        const failure = new DomainError(
          500,
          'thumbnail_failed',
          'this image could not be decoded for a thumbnail; it has been logged',
        );
        failure.cause = error;
        throw failure;
      }
      throw error;
    }
  }
}
