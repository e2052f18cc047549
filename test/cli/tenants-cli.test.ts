import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { cliTestDatabase } from '../helpers/cli-database.js';

const run = promisify(execFile);
const database = cliTestDatabase('tenants');

async function tenants(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      resolve('node_modules/.bin/tsx'),
      ['src/cli/tenants.cli.ts', ...args],
      { env: { ...process.env, DATABASE_URL: database.url(), GRAFT_QUOTA_DATASETS: '7' } },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run tenants', () => {
  // Each run finds PostgreSQL and applies migrations (seconds): one step per test.
  it('creates a tenant, once', async () => {
    expect(await tenants('create', 'acme')).toMatchObject({ code: 0, stdout: 'created acme\n' });
    expect(await tenants('create', 'acme')).toMatchObject({
      code: 1,
      stderr: 'tenants: a tenant named "acme" exists already\n',
    });
  });

  it('sets a quota of its own and shows it beside the defaults, with the use', async () => {
    const set = await tenants('set-quota', 'acme', 'storedBytes', '1073741824');
    expect(set).toMatchObject({ code: 0, stdout: 'acme: storedBytes = 1073741824\n' });
    const shown = await tenants('show', 'acme', '--json');
    expect(shown.code).toBe(0);
    const view = JSON.parse(shown.stdout) as {
      tenant: string;
      quotas: Record<string, { limit: number; used: number | null; own: boolean }>;
    };
    expect(view.tenant).toBe('acme');
    expect(view.quotas.storedBytes).toEqual({ limit: 1073741824, used: 0, own: true });
    expect(view.quotas.datasets).toEqual({ limit: 7, used: 0, own: false });
  });

  it('sets a rate limit of its own, shows it, and goes back to the default', async () => {
    expect(await tenants('set-rate', 'acme', 'predict', '600/10s')).toMatchObject({
      code: 0,
      stdout: 'acme: rate predict = 600/10s\n',
    });
    expect(await tenants('set-rate', 'acme', 'jobs', 'default')).toMatchObject({
      code: 0,
      stdout: 'acme: rate jobs = 30/60s (default)\n',
    });
    const view = JSON.parse((await tenants('show', 'acme', '--json')).stdout) as {
      rateLimits: Record<string, { max: number; windowSeconds: number; own: boolean }>;
    };
    expect(view.rateLimits).toEqual({
      default: { max: 100, windowSeconds: 10, own: false },
      uploads: { max: 10, windowSeconds: 60, own: false },
      jobs: { max: 30, windowSeconds: 60, own: false },
      predict: { max: 600, windowSeconds: 10, own: true },
      thumbnails: { max: 1000, windowSeconds: 10, own: false },
    });
    const shown = await tenants('show', 'acme');
    expect(shown.stdout).toContain('rate predict       600/10s (own)');
  });

  it('lists tenants with their own limits and active keys', async () => {
    const listed = await tenants('list', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([
      {
        name: 'acme',
        activeKeys: 0,
        quotas: { storedBytes: 1073741824 },
        rateLimits: { predict: { max: 600, windowMs: 10000 } },
        createdAt: expect.any(String) as string,
      },
    ]);
  });

  it('says what is wrong: usage errors exit 2 before starting anything, unknown tenants 1', async () => {
    for (const args of [
      ['set-quota', 'acme', 'bogus', '3'],
      ['set-quota', 'acme', 'datasets', '0'],
      ['set-quota', 'acme', 'datasets', '2.5'],
      ['set-rate', 'acme', 'bogus', '10/s'],
      ['set-rate', 'acme', 'predict', '10 per second'],
      ['set-rate', 'acme', 'predict', '0/10s'],
      ['set-rate', 'acme', 'predict'],
      ['list', '--verbose'],
      ['create', 'no spaces'],
      ['frobnicate'],
    ]) {
      const result = await tenants(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toMatch(/^tenants: .*\n\nUsage: npm run tenants/);
    }
    const missing = await tenants('show', 'nobody');
    expect(missing).toMatchObject({ code: 1, stderr: 'tenants: no tenant named "nobody"\n' });
  });
});
