import type { IncomingMessage } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';
import { addressAllowed, checkUrl, fencedLookup, UrlRefused, type UrlPolicy } from './url-fence.js';

export interface DownloadLimits {
  maxFileBytes: number;
  maxModelBytes: number;
  maxFiles: number;
  /** For one file, its redirects included. */
  timeoutMs: number;
  maxRedirects: number;
}

export type DownloadFailure = 'unreachable' | 'redirects' | 'file_too_large' | 'model_too_large';

/**
 * A download that did not work. `detail` (status, error code, redirect target) is for the
 * server's log: a tenant sees only the kind, so the answers cannot map the network.
 */
export class DownloadFailed extends Error {
  override name = 'DownloadFailed';
  constructor(
    readonly kind: DownloadFailure,
    readonly detail: string,
  ) {
    super(`${kind}: ${detail}`);
  }
}

/** Bytes still allowed for the model being downloaded, shared by all its files. */
export interface ModelBudget {
  remaining: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

type Hop = { redirect: URL } | { body: Uint8Array };

function readCapped(
  response: IncomingMessage,
  limits: DownloadLimits,
  budget: ModelBudget,
): Promise<Uint8Array> {
  const fileCap = limits.maxFileBytes <= budget.remaining;
  const cap = Math.min(limits.maxFileBytes, budget.remaining);
  const tooLarge = (bytes: string) =>
    new DownloadFailed(fileCap ? 'file_too_large' : 'model_too_large', `${bytes} > ${cap} bytes`);
  const declared = Number(response.headers['content-length'] ?? NaN);
  if (declared > cap) return Promise.reject(tooLarge(`declared ${declared}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    response.on('data', (chunk: Buffer) => {
      total += chunk.byteLength;
      chunks.push(chunk);
      if (total > cap) response.destroy(tooLarge(`got ${total}`));
    });
    response.on('error', reject);
    response.on('close', () => {
      if (!response.complete) reject(new DownloadFailed('unreachable', 'body cut short'));
    });
    response.on('end', () => {
      budget.remaining -= total;
      resolve(new Uint8Array(Buffer.concat(chunks, total)));
    });
  });
}

/** Refuses a socket that ended up somewhere the lookup would not have allowed. */
export function guardSocket(socket: Socket, url: URL, policy: UrlPolicy, fail: (e: Error) => void) {
  socket.once('connect', () => {
    const address = socket.remoteAddress;
    if (address !== undefined && !addressAllowed(address, url.hostname, policy)) {
      fail(new UrlRefused('address', `connected to ${address}`));
    }
  });
}

/** One GET, redirects not followed: the caller checks each target first. */
function getOnce(
  url: URL,
  policy: UrlPolicy,
  limits: DownloadLimits,
  budget: ModelBudget,
  signal: AbortSignal,
) {
  return new Promise<Hop>((resolve, reject) => {
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(url, {
      method: 'GET',
      agent: false,
      signal,
      lookup: fencedLookup(policy),
      ...(policy.ca ? { ca: policy.ca as string | string[] } : {}),
      headers: { accept: '*/*', 'accept-encoding': 'identity', 'user-agent': 'graft' },
      timeout: limits.timeoutMs,
    });
    const fail = (error: Error) => request.destroy(error);
    request.on('socket', (socket) => guardSocket(socket, url, policy, fail));
    request.on('timeout', () => fail(new DownloadFailed('unreachable', 'socket idle timeout')));
    request.on('error', reject);
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (REDIRECTS.has(status) && location) {
        response.resume();
        try {
          resolve({ redirect: new URL(location, url) });
        } catch {
          reject(new DownloadFailed('unreachable', `HTTP ${status} to an invalid Location`));
        }
      } else if (status !== 200) {
        response.resume();
        reject(new DownloadFailed('unreachable', `HTTP ${status}`));
      } else {
        readCapped(response, limits, budget).then((body) => resolve({ body }), reject);
      }
    });
    request.end();
  });
}

/** Network errors (refused, reset, TLS, DNS, HTTP status) collapse into one kind. */
function collapse(error: unknown, url: URL): Error {
  if (error instanceof UrlRefused || error instanceof DownloadFailed) return error;
  const code = (error as NodeJS.ErrnoException).code ?? (error as Error).name;
  return new DownloadFailed('unreachable', `${code} for ${url.href}`);
}

/**
 * Downloads one file within the fence: every hop's scheme, host and addresses are checked
 * before connecting, redirects are followed by hand up to `maxRedirects`, and the body may not
 * exceed the per-file cap or what the model's budget has left. The whole file, its redirects
 * included, must arrive within `timeoutMs`.
 */
export async function fencedDownload(
  start: string,
  policy: UrlPolicy,
  limits: DownloadLimits,
  budget: ModelBudget,
): Promise<Uint8Array> {
  let url = new URL(start);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), limits.timeoutMs);
  try {
    for (let hop = 0; ; hop++) {
      checkUrl(url, policy);
      const result = await getOnce(url, policy, limits, budget, timeout.signal).catch(
        (error: unknown) => {
          throw timeout.signal.aborted
            ? new DownloadFailed('unreachable', `no answer within ${limits.timeoutMs} ms`)
            : collapse(error, url);
        },
      );
      if ('body' in result) return result.body;
      if (hop >= limits.maxRedirects) {
        throw new DownloadFailed('redirects', `more than ${limits.maxRedirects} redirects`);
      }
      url = result.redirect;
    }
  } finally {
    clearTimeout(timer);
  }
}
