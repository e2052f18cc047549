/** Error codes of a network peer, not a disk: a client that went away mid-upload is not a fault. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * An operating system's error from reading or writing files (ENOSPC, EDQUOT, EIO, EROFS,
 * EACCES…): a fault of the server's disk, never of what a client sent.
 */
export function isFileSystemError(error: unknown): error is NodeJS.ErrnoException & {
  code: string;
} {
  if (!(error instanceof Error)) return false;
  const { code } = error as NodeJS.ErrnoException;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && !NETWORK_CODES.has(code);
}

/** No room left: the disk is full or the process's quota is spent. */
export const isOutOfSpace = (error: NodeJS.ErrnoException) =>
  error.code === 'ENOSPC' || error.code === 'EDQUOT';
