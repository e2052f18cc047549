import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ensurePostgres, ensureRedis } from '../../src/runtime/infrastructure.js';

const NOTHING_HERE = { host: '127.0.0.1', port: 1, user: 'postgres' };
const hasRedisServer = spawnSync('sh', ['-c', 'command -v redis-server']).status === 0;

describe('finding or starting the databases (npm start with nothing running)', () => {
  it('starts an embedded PostgreSQL when none answers, and creates the database', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'graft-embedded-'));
    const started = await ensurePostgres(undefined, dataDir, 'graft_embedded', NOTHING_HERE);
    try {
      expect(started.source).toBe('embedded');
      const client = new pg.Client({ connectionString: started.url });
      await client.connect();
      const { rows } = await client.query<{ db: string }>('SELECT current_database() AS db');
      await client.end();
      expect(rows[0]!.db).toBe('graft_embedded');
    } finally {
      await started.stop?.();
    }
  });

  it.skipIf(!hasRedisServer)('starts a private redis-server when none answers', async () => {
    const started = await ensureRedis(
      undefined,
      mkdtempSync(join(tmpdir(), 'graft-redis-')),
      'redis://127.0.0.1:1',
    );
    try {
      expect(started.source).toBe('embedded');
      const client = new Redis(started.url);
      expect(await client.ping()).toBe('PONG');
      client.disconnect();
    } finally {
      await started.stop?.();
    }
  });

  it('uses what is configured without probing', async () => {
    const started = await ensurePostgres('postgresql://u@db.example:5432/x', '/nonexistent');
    expect(started).toEqual({ url: 'postgresql://u@db.example:5432/x', source: 'configured' });
  });
});
