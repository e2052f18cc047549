import { Prisma } from './generated/client.js';

/*
 * What Prisma 6.19 over @prisma/adapter-pg throws when PostgreSQL cannot be reached (measured,
 * test/faults/database-outage.test.ts):
 * - connection refused: PrismaClientKnownRequestError P1001 (P2010 from raw queries), its
 *   `meta.driverAdapterError.cause.kind` 'DatabaseNotReachable';
 * - a connection reset or closed while connecting or idle: P1017 (P2010 raw), 'ConnectionClosed';
 * - the server ending a connection (restart, pg_terminate_backend): P2010, kind 'postgres' with
 *   SQLSTATE 57P01;
 * - a connection lost mid-query, or a connect or pool wait past `connect_timeout`: node-postgres's
 *   own plain Error ("Connection terminated unexpectedly", "Connection terminated due to
 *   connection timeout", "timeout exceeded when trying to connect"), not wrapped by Prisma.
 */

/** Prisma's codes for a database it cannot reach, or a pool it cannot get a connection from. */
const UNREACHABLE_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

/** Driver adapter error kinds that mean the connection, not the query, failed. */
const UNREACHABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
]);

/**
 * SQLSTATEs of a server that is not taking queries: connection exceptions (08…), shutting
 * down or restarting (57P01–57P03), out of connection slots (53300).
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;

/** node-postgres's messages for a connection it lost or could not open in time. */
const LOST_CONNECTION =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Can't reach database server|Server has closed the connection|the database system is (shutting down|starting up|in recovery mode)|terminating connection due to administrator command/;

function adapterCause(meta: unknown): { kind?: unknown; code?: unknown } | undefined {
  const adapterError = (meta as { driverAdapterError?: { cause?: unknown } } | undefined)
    ?.driverAdapterError;
  const cause = adapterError?.cause;
  return typeof cause === 'object' && cause !== null ? cause : undefined;
}

/**
 * Whether `error` says PostgreSQL is unreachable (down, restarting, cut off, or out of
 * connections) rather than that a query was wrong: the API answers 503 for these, and the
 * same request succeeds once the database is back (the pool reconnects by itself).
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof Prisma.PrismaClientInitializationError) return true;
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    if (UNREACHABLE_CODES.has(error.code)) return true;
    const cause = adapterCause(error.meta);
    if (!cause) return false;
    if (typeof cause.kind === 'string' && UNREACHABLE_KINDS.has(cause.kind)) return true;
    return (
      cause.kind === 'postgres' &&
      typeof cause.code === 'string' &&
      UNAVAILABLE_SQLSTATE.test(cause.code)
    );
  }
  // Prisma's other errors and node-postgres's plain ones say what happened only in words.
  const wordsOnly =
    error instanceof Prisma.PrismaClientUnknownRequestError ||
    error instanceof Prisma.PrismaClientRustPanicError ||
    Object.getPrototypeOf(error) === Error.prototype;
  return wordsOnly && LOST_CONNECTION.test(error.message);
}
