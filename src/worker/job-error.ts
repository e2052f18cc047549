import { randomBytes } from 'node:crypto';
import { isDatabaseUnavailable } from '../db/database-errors.js';
import type { Logger } from '../observability/logger.js';

/** Stored errors longer than this are cut: a job's error is a sentence, not a log. */
const MAX_LENGTH = 1000;

/**
 * An absolute file path (`/var/lib/graft/…`, `C:\…`) or a `file://` URL, not part of a URL
 * (`https://host/path` keeps its path: it is what the user named).
 */
const FILE_PATH = /(?:file:\/\/|(?<![\w:/.\\-])(?:\/|[A-Za-z]:\\))(?:[^\s'"`()[\]<>,;]+)/g;

/** What a Node system error (ENOENT, ENOSPC, EIO…) looks like. */
function systemCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * The database's and the object store's errors (an address, SQL, a bucket, a credential):
 * never for a job's owner.
 */
function isInternal(error: unknown): boolean {
  return (
    isDatabaseUnavailable(error) ||
    (error instanceof Error &&
      (/^PrismaClient|^DriverAdapterError$/.test(error.constructor.name) ||
        // AWS SDK service errors carry $metadata; its credential errors say so by name.
        typeof (error as { $metadata?: unknown }).$metadata === 'object' ||
        error.name === 'CredentialsProviderError'))
  );
}

/** The last part of a path: enough to tell which file, nothing about where the server keeps it. */
const lastPart = (path: string) => `…/${path.split(/[/\\]/).filter(Boolean).pop() ?? ''}`;

export interface JobError {
  /** For the job's owner: what happened, without server paths or internals. */
  message: string;
  /** For the server's log, when the message left something out; the message names `reference`. */
  internal?: { reference: string; detail: string };
}

/**
 * What a failed job tells its owner. Training's own errors (a spec naming a class the dataset
 * lacks, no usable images left, a base model refused, the wall-time limit) are for the user and
 * pass, with any file path cut to its last part. A system error (a full disk, a missing file, a
 * refused connection) is the operator's problem: the user gets its code and a reference that
 * finds the whole error in the worker's log.
 */
export function jobError(error: unknown, prefix = ''): JobError {
  const raw = error instanceof Error ? error.message : String(error);
  const code = systemCode(error) ?? (isInternal(error) ? 'database or storage' : undefined);
  if (code) {
    const reference = randomBytes(6).toString('hex');
    const detail = error instanceof Error ? (error.stack ?? raw) : raw;
    return {
      message: `${prefix}the server hit a system error (${code}); try again later, and give the operator reference ${reference} if it persists`,
      internal: { reference, detail },
    };
  }
  const message = `${prefix}${raw}`.replace(FILE_PATH, lastPart);
  return {
    message: message.length > MAX_LENGTH ? `${message.slice(0, MAX_LENGTH - 1)}…` : message,
  };
}

/**
 * Logs the part of a job's error its owner does not see, on `log` (bound to the job: jobId,
 * tenantId, requestId), under the reference its owner was given.
 */
export function logInternal(log: Logger, error: JobError): void {
  if (!error.internal) return;
  const { reference, detail } = error.internal;
  log.error({ reference, detail }, `job failed with a system error (reference ${reference})`);
}
