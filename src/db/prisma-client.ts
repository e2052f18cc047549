import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from './generated/client.js';

export type Db = PrismaClient;

/** Prisma's own default `connect_timeout`, in seconds. */
const DEFAULT_CONNECT_TIMEOUT_S = 5;

/**
 * How long opening a connection, or waiting for a free one in the pool, may take: the URL's
 * `connect_timeout` (seconds; 0 waits forever), as libpq and Prisma read it. node-postgres
 * ignores that parameter and waits forever by default, so a database host that stops
 * answering (no refusal, no reset) would hang every request instead of failing it.
 */
export function connectTimeoutMs(databaseUrl: string): number {
  let value: string | null = null;
  try {
    value = new URL(databaseUrl).searchParams.get('connect_timeout');
  } catch {
    // Not a URL: node-postgres reports that itself on the first query.
  }
  const seconds = value === null || value.trim() === '' ? NaN : Number(value);
  return (Number.isFinite(seconds) && seconds >= 0 ? seconds : DEFAULT_CONNECT_TIMEOUT_S) * 1000;
}

/** One Prisma client over node-postgres (no engine binary to download). */
export function createDb(databaseUrl: string): Db {
  return new PrismaClient({
    adapter: new PrismaPg({
      connectionString: databaseUrl,
      connectionTimeoutMillis: connectTimeoutMs(databaseUrl),
    }),
  });
}
