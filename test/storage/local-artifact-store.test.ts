import { mkdirSync, mkdtempSync, utimesSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../../src/storage/artifact-store.js';
import { describeArtifactStore } from './artifact-store-contract.js';

const newRoot = () => mkdtempSync(join(tmpdir(), 'graft-local-store-'));

describeArtifactStore('local', () => Promise.resolve(new LocalArtifactStore(newRoot())));

describe('the local artifact store', () => {
  it('stages writes in one folder, which listing hides, and removes only stale staging files', async () => {
    const root = newRoot();
    const store = new LocalArtifactStore(root);
    await store.put('models/m1/model.json', '{}');
    // Puts that finished leave nothing staged beside their files.
    expect(readdirSync(join(root, 'models', 'm1'))).toEqual(['model.json']);
    expect((await store.list('')).map((entry) => entry.key)).toEqual(['models']);
    // What a writer killed mid-put leaves behind: one stale, one still being written.
    const staging = join(root, '.staging');
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, 'dead.partial'), 'half');
    writeFileSync(join(staging, 'live.partial'), 'half');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(join(staging, 'dead.partial'), hourAgo, hourAgo);
    expect(await store.removeUnfinishedWrites(new Date(Date.now() - 60_000))).toBe(1);
    expect(readdirSync(staging)).toEqual(['live.partial']);
  });

  it('refuses keys that escape its folder', async () => {
    const store = new LocalArtifactStore(newRoot());
    await expect(store.list('../..')).rejects.toThrow(/escapes the store/);
  });
});
