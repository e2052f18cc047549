import {
  AbortMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore, StoredEntry } from './artifact-store.js';

/** S3's limits: parts of 5 MiB or more (but the last), 10,000 parts, 1,000 keys per delete. */
const MIN_PART_SIZE = 5 * 1024 ** 2;
const MAX_PARTS = 10_000;
const MAX_DELETE_BATCH = 1000;

export interface S3ArtifactStoreOptions {
  client: S3Client;
  bucket: string;
  /** Every key is stored as `<prefix>/<key>`; '' (the default) for the bucket's top. */
  prefix?: string;
  /**
   * Bytes per part of a multipart upload (at least 5 MiB, the default); a body up to this size
   * goes up in one PutObject.
   */
  partSize?: number;
  /** Parts of one put uploaded at once (default 4). */
  queueSize?: number;
  /** Keys per DeleteObjects request (at most 1000, the default). */
  deleteBatchSize?: number;
  /** Keys per ListObjectsV2 page (at most 1000, the default). */
  listPageSize?: number;
}

/** What a missing key rejects with, as a missing file does: `code` 'ENOENT'. */
function missingKey(key: string, cause: unknown): Error {
  return Object.assign(new Error(`ENOENT: no such artifact in the store: ${key}`, { cause }), {
    code: 'ENOENT',
  });
}

const errorName = (error: unknown) => (error as { name?: unknown } | null)?.name;

/**
 * An artifact store in a bucket of an S3-compatible service (AWS S3, MinIO, Ceph, R2…). Puts are
 * atomic (an object appears whole when its upload completes; big bodies go up in parts);
 * "folders" are key prefixes ending in '/'. What a killed writer leaves is an unfinished
 * multipart upload, which `removeUnfinishedWrites` aborts.
 */
export class S3ArtifactStore implements ArtifactStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  /** '' or the prefix with a trailing '/'. */
  private readonly root: string;
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly deleteBatchSize: number;
  private readonly listPageSize: number;

  constructor(options: S3ArtifactStoreOptions) {
    this.client = options.client;
    this.bucket = options.bucket;
    const prefix = (options.prefix ?? '').split('/').filter(Boolean).join('/');
    this.root = prefix ? `${prefix}/` : '';
    this.partSize = Math.max(MIN_PART_SIZE, options.partSize ?? MIN_PART_SIZE);
    this.queueSize = Math.max(1, options.queueSize ?? 4);
    this.deleteBatchSize = Math.min(MAX_DELETE_BATCH, Math.max(1, options.deleteBatchSize ?? 1000));
    this.listPageSize = Math.min(1000, Math.max(1, options.listPageSize ?? 1000));
  }

  /** A key's path in the store, '.' and '..' resolved as on disk; '' for the top. */
  private relative(key: string): string {
    const parts: string[] = [];
    for (const part of key.split('/')) {
      if (part === '' || part === '.') continue;
      if (part !== '..') parts.push(part);
      else if (parts.pop() === undefined) throw new Error(`artifact key escapes the store: ${key}`);
    }
    return parts.join('/');
  }

  /** The object key of a stored object (never the store's top). */
  private objectKey(key: string): string {
    const relative = this.relative(key);
    if (!relative) throw new Error(`artifact key names the store itself: '${key}'`);
    return this.root + relative;
  }

  /** The object-key prefix of everything below `key` ('' for the top), ending in '/'. */
  private below(key: string): string {
    const relative = this.relative(key);
    return relative ? `${this.root}${relative}/` : this.root;
  }

  /** Every object whose key starts with `prefix`, page by page. */
  private async *objects(prefix: string): AsyncGenerator<_Object[]> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          MaxKeys: this.listPageSize,
          ContinuationToken: token,
        }),
      );
      yield page.Contents ?? [];
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  private upload(key: string, body: Uint8Array | Readable, size?: number): Promise<unknown> {
    // A part size that fits the body into S3's 10,000 parts when its size is known.
    const partSize = Math.max(this.partSize, Math.ceil((size ?? 0) / MAX_PARTS));
    return new Upload({
      client: this.client,
      params: { Bucket: this.bucket, Key: this.objectKey(key), Body: body },
      partSize,
      queueSize: this.queueSize,
      // A failed put aborts its multipart upload: nothing is left to sweep.
      leavePartsOnError: false,
    }).done();
  }

  async put(key: string, data: Uint8Array | string): Promise<void> {
    const body = typeof data === 'string' ? Buffer.from(data) : data;
    await this.upload(key, body, body.byteLength);
  }

  async putStream(key: string, body: Readable, size?: number): Promise<void> {
    try {
      await this.upload(key, body, size);
    } catch (error) {
      body.destroy(); // nobody else reads what a failed put was given
      throw error;
    }
  }

  async get(key: string): Promise<Buffer> {
    const response = await this.getObject(key);
    const bytes = await response.Body!.transformToByteArray();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private async getObject(key: string, abortSignal?: AbortSignal) {
    try {
      return await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
        { abortSignal },
      );
    } catch (error) {
      throw errorName(error) === 'NoSuchKey' ? missingKey(key, error) : error;
    }
  }

  stream(key: string): Readable {
    this.objectKey(key); // a bad key throws here, as the local store's does
    const output = new PassThrough();
    // A reader that stops early (destroys the stream) ends the request too.
    const abort = new AbortController();
    output.once('close', () => abort.abort());
    void this.getObject(key, abort.signal).then(
      (response) =>
        pipeline(response.Body as Readable, output).catch((error: unknown) => {
          output.destroy(error as Error);
        }),
      (error: unknown) => output.destroy(error as Error),
    );
    return output;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }),
      );
      return true;
    } catch (error) {
      if (errorName(error) !== 'NotFound' && errorName(error) !== 'NoSuchKey') throw error;
    }
    // A "folder" exists while keys lie below it, as on disk.
    const page = await this.client.send(
      new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.below(key), MaxKeys: 1 }),
    );
    return (page.KeyCount ?? page.Contents?.length ?? 0) > 0;
  }

  async remove(prefix: string): Promise<void> {
    const relative = this.relative(prefix);
    let batch: string[] = relative ? [this.root + relative] : [];
    for await (const page of this.objects(this.below(prefix))) {
      for (const object of page) {
        if (object.Key === undefined) continue;
        batch.push(object.Key);
        if (batch.length >= this.deleteBatchSize) {
          await this.deleteObjects(batch);
          batch = [];
        }
      }
    }
    if (batch.length) await this.deleteObjects(batch);
  }

  private async deleteObjects(keys: string[]): Promise<void> {
    const result = await this.client.send(
      new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const failed = result.Errors?.filter((error) => error.Code !== 'NoSuchKey') ?? [];
    if (failed.length) {
      const [first] = failed;
      throw new Error(
        `could not delete ${failed.length} of ${keys.length} objects (${first?.Key}: ${first?.Code} ${first?.Message})`,
      );
    }
  }

  /**
   * One listing of every key below the prefix, without a delimiter: it gives the children and,
   * for each child prefix, its newest write (S3 keeps no times for prefixes) in as few requests
   * as listing each child would take at best.
   */
  async list(prefix: string): Promise<StoredEntry[]> {
    const base = this.below(prefix);
    const entries = new Map<string, StoredEntry>();
    for await (const page of this.objects(base)) {
      for (const object of page) {
        if (object.Key === undefined) continue;
        const rest = object.Key.slice(base.length);
        const slash = rest.indexOf('/');
        const name = slash < 0 ? rest : rest.slice(0, slash);
        if (!name) continue; // `base` itself, or an empty part ('a//b'): no child of its own
        const key = base.slice(this.root.length) + name;
        const kind = slash < 0 ? 'object' : 'prefix';
        const modifiedAt = object.LastModified ?? new Date(0);
        const id = `${kind}:${key}`;
        const seen = entries.get(id);
        if (!seen || seen.modifiedAt < modifiedAt) entries.set(id, { key, kind, modifiedAt });
      }
    }
    return [...entries.values()];
  }

  async removeUnfinishedWrites(olderThan: Date): Promise<number> {
    let removed = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.root,
            KeyMarker: keyMarker,
            UploadIdMarker: uploadIdMarker,
          }),
        );
      } catch (error) {
        // A service that cannot list uploads (s3rver): a bucket lifecycle rule
        // (AbortIncompleteMultipartUpload) has to clean them up there.
        if (errorName(error) === 'NotImplemented') return removed;
        throw error;
      }
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId || !upload.Initiated) continue;
        if (upload.Initiated >= olderThan) continue;
        try {
          await this.client.send(
            new AbortMultipartUploadCommand({
              Bucket: this.bucket,
              Key: upload.Key,
              UploadId: upload.UploadId,
            }),
          );
          removed++;
        } catch (error) {
          // Finished or aborted by its writer, or another sweeper, in the meantime.
          if (errorName(error) !== 'NoSuchUpload') throw error;
        }
      }
      const more = page.IsTruncated === true;
      keyMarker = more ? page.NextKeyMarker : undefined;
      uploadIdMarker = more ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    return removed;
  }
}

/** The client for settings from the environment; credentials come from the SDK's own chain. */
export function s3ClientFor(settings: {
  forcePathStyle: boolean;
  endpoint?: string;
  region?: string;
}): S3Client {
  // A service of one's own (MinIO…) seldom cares about the region, but the SDK needs one.
  const region = settings.region ?? (settings.endpoint ? 'us-east-1' : undefined);
  return new S3Client({
    forcePathStyle: settings.forcePathStyle,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    ...(region ? { region } : {}),
    // The SDK waits forever by default: a half-open connection would hang a prediction's model
    // fetch or a reaper pass. An idle socket (not a long transfer) is what gives up.
    requestHandler: { connectionTimeout: 5_000, socketTimeout: 30_000 },
  });
}
