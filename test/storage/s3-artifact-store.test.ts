import { randomBytes, randomUUID } from 'node:crypto';
import {
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { artifactStoreFor, LocalArtifactStore } from '../../src/storage/artifact-store.js';
import { S3ArtifactStore } from '../../src/storage/s3-artifact-store.js';
import { S3RVER_CREDENTIALS, startS3Server, type S3Server } from '../helpers/s3-server.js';
import { describeArtifactStore } from './artifact-store-contract.js';

let server: S3Server;
let client: S3Client;
beforeAll(async () => {
  server = await startS3Server();
  client = server.client();
});
afterAll(async () => {
  client?.destroy();
  await server?.close();
});

const MiB = 1024 ** 2;
/** Small pages and batches, so a few dozen keys take several of each. */
const small = { partSize: 5 * MiB, deleteBatchSize: 7, listPageSize: 10 };

// Each store under a prefix of its own in one bucket, with S3's smallest parts.
describeArtifactStore(
  's3 (under a key prefix)',
  async () =>
    new S3ArtifactStore({ client, bucket: server.bucket, prefix: `t-${randomUUID()}`, ...small }),
  { largeBytes: 11 * MiB + 123 },
);

// A bucket of its own, keys at its top, S3's default page and batch sizes: more than 1000 keys.
describeArtifactStore(
  's3 (a whole bucket)',
  async () => {
    const bucket = `b-${randomUUID()}`;
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return new S3ArtifactStore({ client, bucket });
  },
  { largeBytes: 6 * MiB, manyKeys: 1030 },
);

/** Every command the client sends, from now on. */
function recordCommands(s3: S3Client) {
  const spy = vi.spyOn(s3, 'send');
  return {
    of<T>(type: abstract new (...args: never[]) => T): T[] {
      return spy.mock.calls
        .map(([command]) => command as unknown)
        .filter((c) => c instanceof type) as T[];
    },
    stop: () => spy.mockRestore(),
  };
}

describe('the s3 artifact store', () => {
  const newStore = (options: Partial<ConstructorParameters<typeof S3ArtifactStore>[0]> = {}) =>
    new S3ArtifactStore({
      client,
      bucket: server.bucket,
      prefix: `t-${randomUUID()}`,
      ...small,
      ...options,
    });

  it('keeps keys under its prefix, and never touches a neighbour whose prefix starts the same', async () => {
    const prefix = `n-${randomUUID()}`;
    const store = newStore({ prefix });
    const neighbour = newStore({ prefix: `${prefix}x` });
    await store.put('models/m1/model.json', '{}');
    await neighbour.put('models/m2/model.json', '{}');
    const listed = await client.send(
      new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix }),
    );
    expect(listed.Contents?.map((object) => object.Key).sort()).toEqual([
      `${prefix}/models/m1/model.json`,
      `${prefix}x/models/m2/model.json`,
    ]);
    expect((await store.list('models')).map((entry) => entry.key)).toEqual(['models/m1']);
    await store.remove('');
    expect(await store.list('')).toEqual([]);
    expect(await neighbour.exists('models/m2/model.json')).toBe(true);
  });

  it('puts a large body in parts, and a small one in one request', async () => {
    const store = newStore();
    const commands = recordCommands(client);
    try {
      await store.put('models/m1/weights.bin', randomBytes(12 * MiB));
      expect(commands.of(UploadPartCommand)).toHaveLength(3);
      expect(commands.of(PutObjectCommand)).toHaveLength(0);
      await store.put('models/m1/model.json', '{}');
      expect(commands.of(PutObjectCommand)).toHaveLength(1);
    } finally {
      commands.stop();
    }
  });

  it('removes in batches of at most its batch size', async () => {
    const store = newStore();
    const keys = Array.from({ length: 30 }, (_, i) => `checkpoints/j1/1/${i}.bin`);
    await Promise.all(keys.map((key) => store.put(key, 'x')));
    const commands = recordCommands(client);
    try {
      await store.remove('checkpoints/j1');
      const batches = commands.of(DeleteObjectsCommand).map((c) => c.input.Delete!.Objects!.length);
      // The key itself, then 30 below it: 31 in batches of 7.
      expect(batches).toEqual([7, 7, 7, 7, 3]);
      expect(commands.of(ListObjectsV2Command)).toHaveLength(3); // pages of 10
    } finally {
      commands.stop();
    }
    expect(await store.list('checkpoints')).toEqual([]);
  });

  it('aborts multipart uploads older than the cutoff under its prefix, and only those', async () => {
    const prefix = `u-${randomUUID()}`;
    const store = newStore({ prefix });
    const start = async (key: string) => {
      const { UploadId } = await client.send(
        new CreateMultipartUploadCommand({ Bucket: server.bucket, Key: key }),
      );
      await client.send(
        new UploadPartCommand({
          Bucket: server.bucket,
          Key: key,
          UploadId,
          PartNumber: 1,
          Body: randomBytes(1000),
        }),
      );
      return UploadId!;
    };
    // What writers killed mid-put leave: one an hour old, one still being written.
    const dead = await start(`${prefix}/models/m1/weights.bin`);
    const live = await start(`${prefix}/models/m2/weights.bin`);
    const elsewhere = await start(`${prefix}x/models/m3/weights.bin`);
    const hourAgo = new Date(Date.now() - 3_600_000);
    await server.backdateUpload(dead, hourAgo);
    await server.backdateUpload(elsewhere, hourAgo);
    expect(await store.removeUnfinishedWrites(new Date(Date.now() - 60_000))).toBe(1);
    const { Uploads } = await client.send(
      new ListMultipartUploadsCommand({ Bucket: server.bucket, Prefix: prefix }),
    );
    expect(Uploads?.map((upload) => upload.UploadId).sort()).toEqual([live, elsewhere].sort());
    expect(await store.list('models')).toEqual([]);
  });

  it('reads an object put by another S3 client, dated by the service', async () => {
    const store = newStore({ prefix: 'shared-by-two' });
    await client.send(
      new PutObjectCommand({ Bucket: server.bucket, Key: 'shared-by-two/a/b.txt', Body: 'hi' }),
    );
    expect((await store.get('a/b.txt')).toString()).toBe('hi');
    const [a] = await store.list('');
    expect(a).toMatchObject({ key: 'a', kind: 'prefix' });
    expect(Math.abs(a!.modifiedAt.getTime() - Date.now())).toBeLessThan(5_000);
  });

  it('fails a get from a missing bucket with the service error, not ENOENT', async () => {
    const store = new S3ArtifactStore({ client, bucket: 'no-such-bucket' });
    await expect(store.get('a.txt')).rejects.toMatchObject({ name: 'NoSuchBucket' });
  });
});

describe('GRAFT_STORAGE_URL', () => {
  it('picks the local store by default, and S3 from s3:// with the standard AWS variables', async () => {
    expect(artifactStoreFor(loadConfig({}).storage)).toBeInstanceOf(LocalArtifactStore);
    // Credentials reach the SDK only through the process environment (its own chain).
    const env = server.env(`e-${randomUUID()}`);
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    try {
      // s3rver checks the access key id (not SigV4 signatures): the SDK sends the variable's.
      vi.stubEnv('AWS_ACCESS_KEY_ID', 'NOBODY');
      await expect(
        artifactStoreFor(loadConfig(process.env).storage).put('a.txt', 'a'),
      ).rejects.toMatchObject({ name: 'InvalidAccessKeyId' });
      vi.stubEnv('AWS_ACCESS_KEY_ID', S3RVER_CREDENTIALS.accessKeyId);
      const store = artifactStoreFor(loadConfig(process.env).storage);
      expect(store).toBeInstanceOf(S3ArtifactStore);
      await store.put('models/m1/model.json', '{"ok":true}');
      expect((await store.get('models/m1/model.json')).toString()).toBe('{"ok":true}');
      const prefix = env.GRAFT_STORAGE_URL!.split('/').pop()!;
      const listed = await client.send(
        new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${prefix}/` }),
      );
      expect(listed.Contents?.map((object) => object.Key)).toEqual([
        `${prefix}/models/m1/model.json`,
      ]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
