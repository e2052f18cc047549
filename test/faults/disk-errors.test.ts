import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { DatasetsRepository } from '../../src/db/datasets.repository.js';
import { TenantsRepository } from '../../src/db/tenants.repository.js';
import { wireApi, type ApiParts } from '../../src/runtime/wiring.js';
import { DatasetsService } from '../../src/services/datasets.service.js';
import { LocalArtifactStore, type ArtifactStore } from '../../src/storage/artifact-store.js';
import { colourDataset, multipart } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';

/*
 * Disk faults while an upload is stored are the server's, never the client's: a full disk
 * (ENOSPC, EDQUOT) answers 507 and any other one (EIO…) 500, as problem+json naming only the
 * error code; no dataset is created, and neither its images nor the temporary zip stay on disk.
 */

let h: Harness;
let key: string;

/** The real local store, whose `put` fails like a disk would once `okPuts` have succeeded. */
class FaultyStore extends LocalArtifactStore {
  puts = 0;
  constructor(
    private readonly dir: string,
    private readonly fault: { code: string; okPuts: number },
  ) {
    super(dir);
  }
  override async put(key: string, data: Uint8Array | string): Promise<void> {
    if (this.puts++ >= this.fault.okPuts) {
      const path = join(this.dir, key);
      throw Object.assign(new Error(`${this.fault.code}: disk fault, write '${path}'`), {
        code: this.fault.code,
        errno: -5,
        syscall: 'write',
        path,
      });
    }
    return super.put(key, data);
  }
}

/** An app on the harness's database whose dataset uploads go to `store` and `dataDir`. */
async function appWith(store: ArtifactStore, dataDir = h.config.dataDir) {
  const config: ApiParts['config'] = { ...h.config, dataDir };
  const parts = wireApi(config);
  parts.services.datasets = new DatasetsService(
    new DatasetsRepository(parts.db),
    store,
    config,
    new TenantsRepository(parts.db, config.quotas),
  );
  const app = await buildApp({ ...parts.app, logger: false });
  return {
    app,
    async close() {
      await app.close();
      await parts.close();
    },
  };
}

function upload(app: FastifyInstance, zipFile: Buffer) {
  const body = multipart('colours.zip', zipFile, { name: 'colours' });
  return app.inject({
    method: 'POST',
    url: '/v1/datasets',
    headers: { ...body.headers, authorization: `Bearer ${key}` },
    payload: body.payload,
  });
}

/** Every file below `dir` (none if it does not exist). */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => !entry.isDirectory())
    .map((entry) => join(entry.parentPath, entry.name));
}

async function expectNothingKept(app: FastifyInstance, dataDir: string) {
  const listed = await app.inject({
    method: 'GET',
    url: '/v1/datasets',
    headers: { authorization: `Bearer ${key}` },
  });
  expect(listed.json()).toMatchObject({ total: 0, items: [] });
  expect(await h.db.dataset.count()).toBe(0);
  expect(filesUnder(join(dataDir, 'artifacts', 'datasets'))).toEqual([]);
  expect(filesUnder(join(dataDir, 'tmp'))).toEqual([]);
}

function expectProblem(
  response: Awaited<ReturnType<FastifyInstance['inject']>>,
  status: number,
  code: string,
  dataDir: string,
) {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
  const problem = response.json<{ code: string; detail: string }>();
  expect(problem.code).toBe(code);
  // The detail names the error code and no server path.
  expect(problem.detail).not.toContain(dataDir);
  expect(problem.detail).not.toMatch(/\/(tmp|artifacts|datasets)\//);
  return problem;
}

let zipFile: Buffer;

beforeAll(async () => {
  h = await startHarness({ worker: false });
  key = await h.newKey('acme');
  zipFile = await colourDataset(4);
});

afterAll(async () => {
  await h?.close();
});

describe('disk errors while storing an upload', () => {
  it.each([
    ['ENOSPC', 507, 'insufficient_storage'],
    ['EDQUOT', 507, 'insufficient_storage'],
    ['EIO', 500, 'storage_error'],
  ])('a %s storing its images answers %i %s and keeps nothing', async (errorCode, status, code) => {
    const store = new FaultyStore(join(h.config.dataDir, 'artifacts'), {
      code: errorCode,
      okPuts: 3,
    });
    const faulty = await appWith(store);
    try {
      const response = await upload(faulty.app, zipFile);
      const problem = expectProblem(response, status, code, h.config.dataDir);
      expect(problem.detail).toContain(errorCode);
      expect(problem.detail).not.toMatch(/decodable|image file/);
      expect(store.puts).toBe(4);
      await expectNothingKept(faulty.app, h.config.dataDir);
    } finally {
      await faulty.close();
    }
  });

  it('still creates the dataset, rejecting only what does not decode, when the disk is fine', async () => {
    const healthy = await appWith(new LocalArtifactStore(join(h.config.dataDir, 'artifacts')));
    try {
      const response = await upload(
        healthy.app,
        await colourDataset(3, { 'colours/red/broken.jpg': Buffer.from('not a jpeg at all') }),
      );
      expect(response.statusCode).toBe(201);
      const dataset = response.json<{ id: string; rejected: { path: string; reason: string }[] }>();
      expect(dataset.rejected.map((file) => file.path)).toEqual(['colours/red/broken.jpg']);
      expect(dataset.rejected[0]!.reason).toMatch(/^not a decodable image/);
      await healthy.app.inject({
        method: 'DELETE',
        url: `/v1/datasets/${dataset.id}`,
        headers: { authorization: `Bearer ${key}` },
      });
    } finally {
      await healthy.close();
    }
  });

  it('a temp folder that cannot be written answers 500 storage_error', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'graft-disk-'));
    // A file where the temporary folder should be: creating it fails like a broken disk.
    writeFileSync(join(dataDir, 'tmp'), 'in the way');
    const app = await appWith(new LocalArtifactStore(join(dataDir, 'artifacts')), dataDir);
    try {
      const response = await upload(app.app, zipFile);
      const problem = expectProblem(response, 500, 'storage_error', dataDir);
      expect(problem.detail).toMatch(/\((EEXIST|ENOTDIR)\)/);
      expect(await h.db.dataset.count()).toBe(0);
    } finally {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a full disk while receiving the zip answers 507 and removes the partial zip', async (ctx) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'graft-disk-'));
    const tmp = join(dataDir, 'tmp');
    mkdirSync(tmp);
    // A real full disk: a 4 KiB tmpfs for the temporary zip (needs root; skipped elsewhere).
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4k', 'tmpfs', tmp], { stdio: 'ignore' });
    } catch {
      rmSync(dataDir, { recursive: true, force: true });
      ctx.skip();
      return;
    }
    const app = await appWith(new LocalArtifactStore(join(dataDir, 'artifacts')), dataDir);
    try {
      const bigger = await colourDataset(12);
      expect(bigger.length).toBeGreaterThan(8 * 1024);
      const response = await upload(app.app, bigger);
      expectProblem(response, 507, 'insufficient_storage', dataDir);
      await expectNothingKept(app.app, dataDir);
    } finally {
      await app.close();
      execFileSync('umount', [tmp]);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
