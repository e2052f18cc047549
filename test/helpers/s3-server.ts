import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';

/** s3rver's built-in account (it checks the access key id; it does not verify SigV4 signatures). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

const SCRIPT = fileURLToPath(new URL('./s3rver-process.cjs', import.meta.url));

export interface S3Server {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  bucket: string;
  /** Where s3rver keeps its files (a temp folder). */
  directory: string;
  /** A client for this server (path-style, s3rver's credentials). */
  client(): S3Client;
  /**
   * What points Graft at this server: GRAFT_STORAGE_URL (s3://bucket/`prefix`),
   * GRAFT_S3_FORCE_PATH_STYLE and the standard AWS variables.
   */
  env(prefix?: string): Record<string, string>;
  /** Backdates the start of an unfinished multipart upload (s3rver dates it by its folder). */
  backdateUpload(uploadId: string, to: Date): Promise<void>;
  close(): Promise<void>;
}

/**
 * A real S3 API (s3rver 3.7, files in a temp folder) on 127.0.0.1 and a random port, with one
 * bucket, in a process of its own (see s3rver-process.cjs for why, and what it adds).
 * `S3RVER_LOG=1` shows its request log.
 */
export async function startS3Server(bucket = 'graft-test'): Promise<S3Server> {
  const directory = mkdtempSync(join(tmpdir(), 'graft-s3rver-'));
  const child = spawn(process.execPath, ['--openssl-legacy-provider', SCRIPT, directory, bucket], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.once('line', (line) => {
      const { port } = JSON.parse(line) as { port: number };
      resolve(port);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver exited with code ${code}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    directory,
    client: () =>
      new S3Client({
        endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: S3RVER_CREDENTIALS,
      }),
    env: (prefix = '') => ({
      GRAFT_STORAGE_URL: `s3://${bucket}${prefix ? `/${prefix}` : ''}`,
      GRAFT_S3_FORCE_PATH_STYLE: 'true',
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    }),
    async backdateUpload(uploadId, to) {
      await utimes(join(directory, bucket, '._S3rver_uploads', uploadId), to, to);
    },
    async close() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
