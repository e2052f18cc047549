import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ApiKeysRepository } from '../../src/db/api-keys.repository.js';
import { createDb } from '../../src/db/prisma-client.js';
import { cliTestDatabase } from '../helpers/cli-database.js';

const run = promisify(execFile);
const database = cliTestDatabase('keys');

describe('npm run keys:create', () => {
  it('prints a working API key for the tenant as its last line', async () => {
    const { stdout } = await run(
      resolve('node_modules/.bin/tsx'),
      ['src/cli/keys-create.cli.ts', '--tenant', 'acme'],
      {
        env: { ...process.env, DATABASE_URL: database.url() },
      },
    );
    const key = stdout.trim().split('\n').at(-1)!;
    expect(key).toMatch(/^graft_[a-z0-9]{12}_/);
    const db = createDb(database.url());
    const principal = await new ApiKeysRepository(db).authenticate(key);
    await db.$disconnect();
    expect(principal?.tenantName).toBe('acme');
  });
});
