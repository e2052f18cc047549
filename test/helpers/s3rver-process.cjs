'use strict';
/*
 * s3rver 3.7 (a real S3 API over files) as a process of its own, for test/helpers/s3-server.ts:
 * `node --openssl-legacy-provider s3rver-process.cjs <directory> <bucket>` listens on
 * 127.0.0.1 and a random port, prints `{"port":…}` on one line, and runs until killed.
 *
 * Why a process, and why that flag: s3rver encrypts ListObjectsV2 continuation tokens with DES,
 * which OpenSSL 3 (Node ≥ 17) only has in its legacy provider; without it every truncated
 * listing answers InternalError.
 *
 * What it adds to s3rver:
 * - ListMultipartUploads (GET /bucket?uploads), which s3rver answers NotImplemented, and
 *   AbortMultipartUpload (DELETE /bucket/key?uploadId=…), which it answers MethodNotAllowed,
 *   both from the folders s3rver keeps unfinished uploads in (<bucket>/._S3rver_uploads/<id>,
 *   holding the key; the folder's mtime is the upload's start);
 * - one object deleted at a time: s3rver deletes a DeleteObjects batch's keys all at once and
 *   each then removes its emptied folders, racing with its siblings (InternalError).
 */
const console = require('node:console');
const { readdir, readFile, rm, stat } = require('node:fs/promises');
const { join } = require('node:path');
const process = require('node:process');
const S3rver = require('s3rver');

const [directory, bucket] = process.argv.slice(2);
if (!directory || !bucket) {
  console.error('usage: s3rver-process.cjs <directory> <bucket>');
  process.exit(2);
}

const uploadsDir = (name) => join(directory, name, '._S3rver_uploads');

/** ListMultipartUploads and AbortMultipartUpload, before s3rver's router. */
async function multipartUploads(ctx, next) {
  const [name, ...keyParts] = ctx.path.split('/').filter(Boolean);
  if (!name) return next();
  const text = (param) => (typeof ctx.query[param] === 'string' ? ctx.query[param] : '');
  if (ctx.method === 'GET' && keyParts.length === 0 && 'uploads' in ctx.query) {
    const prefix = text('prefix');
    const ids = await readdir(uploadsDir(name)).catch(() => []);
    const uploads = [];
    for (const id of ids.sort()) {
      const folder = join(uploadsDir(name), id);
      const key = await readFile(join(folder, 'key'), 'utf8').catch(() => undefined);
      if (key === undefined || !key.startsWith(prefix)) continue;
      const { mtime } = await stat(folder);
      uploads.push({ Key: key, UploadId: id, Initiated: mtime.toISOString() });
    }
    ctx.body = {
      ListMultipartUploadsResult: {
        Bucket: name,
        Prefix: prefix,
        IsTruncated: false,
        ...(uploads.length ? { Upload: uploads } : {}),
      },
    };
    return;
  }
  if (ctx.method === 'DELETE' && keyParts.length > 0 && text('uploadId')) {
    const folder = join(uploadsDir(name), text('uploadId').replace(/[^0-9a-f]/g, ''));
    if (!(await stat(folder).catch(() => undefined))) {
      ctx.status = 404;
      ctx.body = {
        Error: { Code: 'NoSuchUpload', Message: 'The specified upload does not exist.' },
      };
      return;
    }
    await rm(folder, { recursive: true, force: true });
    ctx.status = 204;
    return;
  }
  return next();
}

async function main() {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: process.env.S3RVER_LOG !== '1',
    configureBuckets: [{ name: bucket }],
  });
  // s3rver's router is its last middleware; the XML rendering of bodies comes before it.
  server.middleware.splice(server.middleware.length - 1, 0, multipartUploads);
  const deleteObject = server.store.deleteObject.bind(server.store);
  let deleting = Promise.resolve();
  server.store.deleteObject = (name, key) => {
    const done = deleting.then(() => deleteObject(name, key));
    deleting = done.catch(() => undefined);
    return done;
  };
  const { port } = await server.run();
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.on('SIGTERM', () => void server.close().finally(() => process.exit(0)));
  // The test process died without closing: stop with it.
  process.stdin.on('end', () => process.exit(0));
  process.stdin.resume();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
