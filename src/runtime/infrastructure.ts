import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL } from '../config/config.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

/*
 * Finding (or starting) Postgres and Redis for the all-in-one start and the tests, and
 * applying migrations. Explicit DATABASE_URL / REDIS_URL always win.
 */

const defaultServer = new URL(DEFAULT_DATABASE_URL);
/** The server looked for first: the one API replicas and workers use when DATABASE_URL is unset. */
export const DEFAULT_POSTGRES = {
  host: defaultServer.hostname,
  port: Number(defaultServer.port),
  user: defaultServer.username,
};

export interface Started {
  url: string;
  /** What was started for us, if anything; stop() ends it. */
  stop?: () => Promise<void>;
  source: 'configured' | 'local' | 'embedded';
  /** Where an embedded server we started keeps its data. */
  dataDir?: string;
}

function postgresUrl(
  c: { host: string; port: number; user: string; password?: string },
  database: string,
): string {
  const auth = c.password ? `${c.user}:${encodeURIComponent(c.password)}` : c.user;
  return `postgresql://${auth}@${c.host}:${c.port}/${database}`;
}

/** Creates `database` on the server if it is not there yet. */
export async function ensureDatabase(
  server: { host: string; port: number; user: string; password?: string },
  database: string,
): Promise<void> {
  const client = new pg.Client({ ...server, database: 'postgres', connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (exists.rowCount === 0)
      await client.query(`CREATE DATABASE "${database.replace(/"/g, '')}"`);
  } finally {
    await client.end();
  }
}

export async function dropDatabase(
  server: { host: string; port: number; user: string },
  database: string,
): Promise<void> {
  const client = new pg.Client({ ...server, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${database.replace(/"/g, '')}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

export async function ensurePostgres(
  configured: string | undefined,
  dataDir: string,
  database = 'graft',
  local = DEFAULT_POSTGRES,
): Promise<Started> {
  if (configured) return { url: configured, source: 'configured' };
  try {
    await ensureDatabase(local, database);
    return { url: postgresUrl(local, database), source: 'local' };
  } catch {
    // Nothing usable on the default port: run our own.
  }
  const server = { host: '127.0.0.1', port: 54329, user: 'postgres', password: 'graft' };
  try {
    // Another Graft process (npm start) may already run the embedded one.
    await ensureDatabase(server, database);
    return { url: postgresUrl(server, database), source: 'embedded' };
  } catch {
    // Not running yet.
  }
  const embedded = await startEmbeddedPostgres({ ...server, root: join(dataDir, 'postgres') });
  try {
    await ensureDatabase(server, database);
  } catch (error) {
    await embedded.stop().catch(() => undefined);
    throw new Error(
      `the embedded PostgreSQL started but database '${database}' could not be created: ${(error as Error).message}. Set DATABASE_URL to a PostgreSQL 13+ database instead.`,
    );
  }
  return {
    url: postgresUrl(server, database),
    source: 'embedded',
    dataDir: join(embedded.root, 'data'),
    stop: embedded.stop,
  };
}

/** A Redis client for probes: connects when asked, fails at once instead of retrying. */
export function probeRedisClient(url: string): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 1500,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  return client;
}

async function redisAnswers(url: string): Promise<boolean> {
  const client = probeRedisClient(url);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function ensureRedis(
  configured: string | undefined,
  dataDir: string,
  localUrl = DEFAULT_REDIS_URL,
): Promise<Started> {
  if (configured) return { url: configured, source: 'configured' };
  if (await redisAnswers(localUrl)) return { url: localUrl, source: 'local' };
  const found = spawnSync('sh', ['-c', 'command -v redis-server'], {
    encoding: 'utf8',
  }).stdout.trim();
  if (!found) {
    throw new Error(
      'No Redis answered on 127.0.0.1:6379 and redis-server is not on PATH. Install it ' +
        '(Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`), or set REDIS_URL.',
    );
  }
  const port = 63790;
  if (await redisAnswers(`redis://127.0.0.1:${port}`))
    return { url: `redis://127.0.0.1:${port}`, source: 'embedded' };
  const dir = join(dataDir, 'redis');
  await mkdir(dir, { recursive: true });
  const child: ChildProcess = spawn(
    found,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await redisAnswers(url)); i++)
    await new Promise((r) => setTimeout(r, 100));
  if (!(await redisAnswers(url)))
    throw new Error(`started ${found} but it did not answer on ${url}`);
  return {
    url,
    source: 'embedded',
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** `prisma migrate deploy` with the project's prisma.config.ts (offline JS schema engine). */
export function applyMigrations(databaseUrl: string, cwd = process.cwd()): Promise<void> {
  const require = createRequire(import.meta.url);
  const cli = join(require.resolve('prisma/package.json'), '..', 'build', 'index.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'migrate', 'deploy'], {
      cwd,
      env: { ...process.env, DATABASE_URL: databaseUrl, PRISMA_HIDE_UPDATE_MESSAGE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`prisma migrate deploy failed:\n${output}`)),
    );
  });
}
