import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cacheFolder, evictToBudget, usingFolder } from '../../src/storage/base-model-cache.js';
import { loadBaseModel, type BaseModelStoreOptions } from '../../src/storage/base-model-store.js';
import {
  fakeModelFiles,
  serveFiles,
  startHttpsServer,
  testCertificate,
  type TestHttpsServer,
} from '../helpers/https-model-server.js';

const files = fakeModelFiles({ 'weights.bin': 10_000 });
const modelBytes = Object.values(files).reduce((sum, body) => sum + Buffer.byteLength(body), 0);
let site: TestHttpsServer;
let ca: string;

beforeAll(async () => {
  ca = (await testCertificate()).cert;
  site = await startHttpsServer(serveFiles(() => files));
});

afterAll(async () => {
  await site?.close();
});

const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('the base-model download cache', () => {
  const setup = (cacheBytes: number) => {
    const options: BaseModelStoreOptions = {
      cacheDir: mkdtempSync(join(tmpdir(), 'graft-cache-')),
      cacheBytes,
      allowHosts: ['localhost'],
      fence: { allowLoopbackFor: ['localhost'], ca },
    };
    const url = (name: string) => `${site.origin}/${name}/model.json`;
    const load = async (name: string) => {
      await pause(); // distinct last-use times
      const before = site.requests.length;
      await loadBaseModel(url(name), options);
      return site.requests.length > before ? 'downloaded' : 'cached';
    };
    const cached = () =>
      readdirSync(options.cacheDir)
        .map((dir) =>
          ['m1', 'm2', 'm3'].find((n) => cacheFolder(options.cacheDir, url(n)).endsWith(dir)),
        )
        .sort();
    return { options, url, load, cached };
  };

  it('keeps to its byte budget, evicting the least recently used model', async () => {
    const { load, cached } = setup(Math.floor(2.5 * modelBytes));
    expect(await load('m1')).toBe('downloaded');
    expect(await load('m2')).toBe('downloaded');
    expect(await load('m1')).toBe('cached'); // m1 is now the most recently used
    expect(await load('m3')).toBe('downloaded');
    expect(cached()).toEqual(['m1', 'm3']);
    expect(await load('m1')).toBe('cached');
    expect(await load('m2')).toBe('downloaded');
    expect(cached()).toEqual(['m1', 'm2']);
  });

  it('never evicts a model this process is reading; a model gone under a reader is fetched again', async () => {
    const { options, url, load, cached } = setup(10 * modelBytes);
    await load('m1');
    await load('m2');
    const m1 = cacheFolder(options.cacheDir, url('m1'));
    const evicted = await usingFolder(m1, () => evictToBudget(options.cacheDir, 0));
    expect(evicted).toEqual([cacheFolder(options.cacheDir, url('m2'))]);
    expect(cached()).toEqual(['m1']);
    // A file removed by another process's eviction: the reader does not load half a model.
    rmSync(join(m1, 'weights.bin'));
    expect(await load('m1')).toBe('downloaded');
    expect(await load('m1')).toBe('cached');
  });

  it('refuses a model larger than the whole cache, and clears stale partial downloads', async () => {
    const { options, url } = setup(modelBytes - 1);
    await expect(loadBaseModel(url('m1'), options)).rejects.toThrow(
      `could not be downloaded: it is larger than ${modelBytes - 1} bytes`,
    );
    const stale = join(options.cacheDir, 'abc.partial-1-dead');
    const fresh = join(options.cacheDir, 'def.partial-2-beef');
    mkdirSync(stale);
    mkdirSync(fresh);
    const hoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    utimesSync(stale, hoursAgo, hoursAgo);
    await evictToBudget(options.cacheDir, modelBytes);
    expect([existsSync(stale), existsSync(fresh)]).toEqual([false, true]);
  });
});
