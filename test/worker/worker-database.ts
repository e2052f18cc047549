import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { createDb, type Db } from '../../src/db/prisma-client.js';
import {
  DEFAULT_POSTGRES,
  dropDatabase,
  ensurePostgres,
} from '../../src/runtime/infrastructure.js';

export interface TestDatabase {
  db: Db;
  close(): Promise<void>;
}

/**
 * A fresh database on the server the service harness uses (local, or its embedded one). The
 * migrations' SQL is run directly: `prisma migrate deploy` spends ~14 s here and these tests
 * are meant to take about one in all.
 */
export async function startTestDatabase(): Promise<TestDatabase> {
  const database = `graft_test_${randomBytes(5).toString('hex')}`;
  const postgres = await ensurePostgres(undefined, join(tmpdir(), 'graft-it-postgres'), database);
  await runMigrationSql(postgres.url);
  const db = createDb(postgres.url);
  return {
    db,
    async close() {
      await db.$disconnect();
      if (postgres.source === 'local')
        await dropDatabase(DEFAULT_POSTGRES, database).catch(() => undefined);
      await postgres.stop?.();
    },
  };
}

async function runMigrationSql(url: string): Promise<void> {
  const dir = join(process.cwd(), 'prisma', 'migrations');
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const name of names) {
      await client.query(await readFile(join(dir, name, 'migration.sql'), 'utf8'));
    }
  } finally {
    await client.end();
  }
}
