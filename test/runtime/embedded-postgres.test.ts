import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/runtime/embedded-postgres.js';

const asRoot = process.getuid?.() === 0;
const credentials = { user: 'postgres', password: 'graft' };

async function currentUser(port: number): Promise<string> {
  const client = new pg.Client({ host: '127.0.0.1', port, ...credentials, database: 'postgres' });
  await client.connect();
  try {
    const { rows } = await client.query<{ who: string }>('SELECT current_user AS who');
    return rows[0]!.who;
  } finally {
    await client.end();
  }
}

/** A folder only its owner may enter, like /root or `mktemp -d`. */
function privateFolder(): string {
  return mkdtempSync(join(tmpdir(), 'graft-private-'));
}

describe('embedded PostgreSQL', () => {
  it('runs from a data folder inside a private (0700) folder, moving the cluster where postgres can reach it', async () => {
    const systemRoot = join(mkdtempSync(join(tmpdir(), 'graft-system-')), 'postgres');
    const root = join(privateFolder(), 'data', 'postgres');
    const running = await startEmbeddedPostgres({ root, systemRoot, port: 54341, ...credentials });
    try {
      // As root the postgres user cannot enter the private folder; a normal user runs it as itself.
      expect(running.root).toBe(asRoot ? systemRoot : root);
      expect(await currentUser(54341)).toBe('postgres');
    } finally {
      await running.stop();
    }
    // A second start reuses the cluster it made.
    const again = await startEmbeddedPostgres({ root, systemRoot, port: 54341, ...credentials });
    await again.stop();
    expect(again.root).toBe(running.root);
  });

  it.runIf(asRoot)(
    'fails within seconds, saying why and what to set, when postgres can reach no folder',
    async () => {
      const hidden = privateFolder();
      const error = await startEmbeddedPostgres({
        root: join(hidden, 'data', 'postgres'),
        systemRoot: join(hidden, 'system', 'postgres'),
        port: 54342,
        ...credentials,
      }).catch((e: unknown) => e as Error);
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/postgres user can reach neither .*DATABASE_URL/s);
    },
    20_000,
  );

  it('fails within seconds, with the server log, when its port is taken', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(54343, '127.0.0.1', r));
    try {
      const root = join(mkdtempSync(join(tmpdir(), 'graft-busy-')), 'postgres');
      const error = await startEmbeddedPostgres({ root, port: 54343, ...credentials }).catch(
        (e: unknown) => e as Error,
      );
      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/postgres exited .*54343.*DATABASE_URL/s);
    } finally {
      squatter.close();
    }
  }, 60_000);

  it('fails within seconds when a cluster made with another password is in its folder', async () => {
    const root = join(mkdtempSync(join(tmpdir(), 'graft-other-')), 'postgres');
    const first = await startEmbeddedPostgres({
      root,
      port: 54345,
      user: 'postgres',
      password: 'a',
    });
    await first.stop();
    const started = Date.now();
    await expect(
      startEmbeddedPostgres({ root, port: 54345, user: 'postgres', password: 'b' }),
    ).rejects.toThrow(/refuses user 'postgres' with our password.*DATABASE_URL/s);
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 60_000);

  it('fails at once, saying what to set, when its folder cannot be made', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'graft-file-')), 'not-a-folder');
    writeFileSync(file, '');
    mkdirSync(join(file, '..', 'ok'));
    await expect(
      startEmbeddedPostgres({ root: join(file, 'postgres'), port: 54344, ...credentials }),
    ).rejects.toThrow(/embedded PostgreSQL could not start: .*ENOTDIR.*DATABASE_URL/s);
  }, 20_000);
});
