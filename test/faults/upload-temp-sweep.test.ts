import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/service-harness.js';

/*
 * An API replica sweeps its own upload temp folder: the zip of an upload whose process died
 * mid-request is removed once it is older than GRAFT_ORPHAN_AGE_MS, a fresh one is kept.
 */

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    worker: false,
    env: { GRAFT_REAPER_INTERVAL_MS: '50', GRAFT_ORPHAN_AGE_MS: '60000' },
  });
});

afterAll(async () => {
  await h?.close();
});

describe("an API replica's upload temp folder", () => {
  it('loses the zips of uploads that died, and keeps the ones arriving', async () => {
    const tmp = join(h.config.dataDir, 'tmp');
    mkdirSync(tmp, { recursive: true });
    const dead = join(tmp, 'killed-upload.zip');
    const arriving = join(tmp, 'arriving-upload.zip');
    writeFileSync(dead, 'half an upload');
    const hourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(dead, hourAgo, hourAgo);
    writeFileSync(arriving, 'an upload in progress');
    const deadline = Date.now() + 5000;
    while (existsSync(dead) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 25));
    expect(existsSync(dead)).toBe(false);
    expect(existsSync(arriving)).toBe(true);
  });
});
