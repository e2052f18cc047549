import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeysRepository } from '../../src/db/api-keys.repository.js';
import { createDb } from '../../src/db/prisma-client.js';
import {
  DEFAULT_POSTGRES,
  dropDatabase,
  ensurePostgres,
  type Started,
} from '../../src/runtime/infrastructure.js';

const run = promisify(execFile);
const database = `graft_test_keys_${randomBytes(4).toString('hex')}`;
let postgres: Started;

beforeAll(async () => {
  postgres = await ensurePostgres(undefined, resolve('data/test-postgres'), database);
});

afterAll(async () => {
  if (postgres.source === 'local') await dropDatabase(DEFAULT_POSTGRES, database);
  await postgres.stop?.();
});

describe('npm run keys:create', () => {
  it('prints a working API key for the tenant as its last line', async () => {
    const { stdout } = await run(
      resolve('node_modules/.bin/tsx'),
      ['src/cli/keys-create.cli.ts', '--tenant', 'acme'],
      {
        env: { ...process.env, DATABASE_URL: postgres.url },
      },
    );
    const key = stdout.trim().split('\n').at(-1)!;
    expect(key).toMatch(/^graft_[a-z0-9]{12}_/);
    const db = createDb(postgres.url);
    const principal = await new ApiKeysRepository(db).authenticate(key);
    await db.$disconnect();
    expect(principal?.tenantName).toBe('acme');
  });
});
