import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import {
  DEFAULT_POSTGRES,
  dropDatabase,
  ensurePostgres,
  type Started,
} from '../../src/runtime/infrastructure.js';

/**
 * A private database for a test file that runs a CLI as a child process: created before the
 * file's tests, dropped after. `url()` is its connection string once started.
 */
export function cliTestDatabase(name: string): { url: () => string } {
  const database = `graft_test_${name}_${randomBytes(4).toString('hex')}`;
  let postgres: Started | undefined;
  beforeAll(async () => {
    postgres = await ensurePostgres(undefined, resolve('data/test-postgres'), database);
  });
  afterAll(async () => {
    if (postgres?.source === 'local') await dropDatabase(DEFAULT_POSTGRES, database);
    await postgres?.stop?.();
  });
  return { url: () => postgres!.url };
}
