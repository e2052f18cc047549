// @ts-check
/*
 * Every call to the API: the key from session storage as a Bearer header, problem+json
 * answers turned into an ApiError whose message is the problem's `detail`.
 */

const KEY = 'graft.apiKey';

export const session = {
  /** @returns {string | null} */
  get key() {
    return sessionStorage.getItem(KEY);
  },
  /** @param {string} key */
  signIn(key) {
    sessionStorage.setItem(KEY, key);
  },
  signOut() {
    sessionStorage.removeItem(KEY);
  },
};

export class ApiError extends Error {
  /**
   * @param {number} status @param {{ title?: string, detail?: string, code?: string }} problem
   * @param {string | null} [retryAfter] the Retry-After header (429, 503)
   */
  constructor(status, problem, retryAfter = null) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code;
    const seconds = Number(retryAfter);
    /** Seconds to wait before asking again, when the server said. @type {number | undefined} */
    this.retryAfter = retryAfter && Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
  }

  /** Busy or rate-limited: asking again later may work. */
  get transient() {
    return this.status === 429 || this.status === 503;
  }
}

/**
 * Waits `ms`, or until the signal fires (then rejects with its reason).
 * @param {number} ms @param {AbortSignal} [signal]
 * @returns {Promise<void>}
 */
export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Calls `call` again while the API is busy or the key's budget is spent (429, 503), after the
 * Retry-After it gave (1 s if none, at most 30 s), up to `tries` calls.
 * @template T @param {() => Promise<T>} call @param {AbortSignal} [signal] @param {number} [tries]
 * @returns {Promise<T>}
 */
export async function patiently(call, signal, tries = 5) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof ApiError) || !error.transient || attempt >= tries) throw error;
      await sleep(Math.min(30, error.retryAfter ?? attempt) * 1000, signal);
    }
  }
}

/** Called when the key stops working (401): the app signs out and says why. */
let onUnauthorised = (/** @type {ApiError} */ _error) => {};
/** @param {(error: ApiError) => void} handler */
export function whenUnauthorised(handler) {
  onUnauthorised = handler;
}

/** @param {string} [key] */
export function authHeaders(key = session.key ?? '') {
  return { authorization: `Bearer ${key}` };
}

/** @param {number} status @param {string} text @param {string | null} [retryAfter] */
export function problemOf(status, text, retryAfter = null) {
  try {
    const body = JSON.parse(text);
    if (body && typeof body === 'object') return new ApiError(status, body, retryAfter);
  } catch {
    // not JSON: say the status
  }
  return new ApiError(
    status,
    { detail: `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}` },
    retryAfter,
  );
}

/**
 * A refused key signs out once: the first 401 with the key in use says why (its detail), and
 * the calls that were running beside it (refused too, or aborted by the sign-out while their
 * body was read) say nothing more.
 * @param {number} status @param {ApiError} error @param {string} key the key the call sent
 */
export function refused(status, error, key) {
  if (status === 401 && key && key === session.key) onUnauthorised(error);
}

/** @param {Response} response @param {string} key */
async function failure(response, key) {
  const error = problemOf(
    response.status,
    await response.text().catch(() => ''),
    response.headers.get('retry-after'),
  );
  refused(response.status, error, key);
  return error;
}

/**
 * @param {string} path
 * @param {{ method?: string, json?: unknown, body?: BodyInit, signal?: AbortSignal, key?: string }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, options = {}) {
  const key = options.key ?? session.key ?? '';
  /** @type {Record<string, string>} */
  const headers = { ...authHeaders(key), accept: 'application/json' };
  let body = options.body;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    body,
    signal: options.signal,
  });
  if (!response.ok) throw await failure(response, key);
  if (response.status === 204) return null;
  return response.json();
}

/**
 * A multipart upload through XMLHttpRequest, whose upload events (unlike fetch's) tell how
 * much has been sent. It always settles: on the answer, a lost connection, a timeout, or the
 * page's signal (which aborts it: an upload finishing after the user left takes them nowhere).
 * @param {string} path
 * @param {FormData} form
 * @param {(sent: number, total: number) => void} onProgress
 * @param {AbortSignal} signal
 * @returns {Promise<any>}
 */
export function upload(path, form, onProgress, signal) {
  const key = session.key ?? '';
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    signal.addEventListener('abort', abort, { once: true });
    /** @param {() => void} settle */
    const done = (settle) => {
      signal.removeEventListener('abort', abort);
      settle();
    };
    xhr.open('POST', path);
    xhr.setRequestHeader('authorization', authHeaders(key).authorization);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener('load', () =>
      done(() => {
        if (xhr.status < 200 || xhr.status >= 300) {
          const error = problemOf(
            xhr.status,
            xhr.responseText,
            xhr.getResponseHeader('retry-after'),
          );
          refused(xhr.status, error, key);
          return reject(error);
        }
        try {
          resolve(JSON.parse(xhr.responseText));
        } catch {
          reject(new ApiError(xhr.status, { detail: 'the upload’s answer was not JSON' }));
        }
      }),
    );
    xhr.addEventListener('error', () =>
      done(() => reject(new ApiError(0, { detail: 'the upload failed: the connection was lost' }))),
    );
    xhr.addEventListener('timeout', () =>
      done(() => reject(new ApiError(0, { detail: 'the upload timed out' }))),
    );
    xhr.addEventListener('abort', () =>
      done(() => reject(signal.reason ?? new ApiError(0, { detail: 'the upload was aborted' }))),
    );
    xhr.send(form);
  });
}

/** Object URLs made for the current page, revoked when the page changes. */
const objectUrls = new Set();

/** @param {Blob} blob */
export function objectUrl(blob) {
  const url = URL.createObjectURL(blob);
  objectUrls.add(url);
  return url;
}

export function revokeObjectUrls() {
  for (const url of objectUrls) URL.revokeObjectURL(url);
  objectUrls.clear();
}

/**
 * A protected image (a thumbnail) as a blob: URL: an <img src> cannot send the key.
 * @param {string} path @param {AbortSignal} [signal]
 */
export async function imageUrl(path, signal) {
  const key = session.key ?? '';
  const response = await fetch(path, { headers: authHeaders(key), signal });
  if (!response.ok) throw await failure(response, key);
  return objectUrl(await response.blob());
}

/**
 * Downloads a protected file: fetched with the key, then saved through a temporary link.
 * @param {string} path @param {string} fallbackName
 * @returns {Promise<string>} the file name
 */
export async function download(path, fallbackName) {
  const key = session.key ?? '';
  const response = await fetch(path, { headers: authHeaders(key) });
  if (!response.ok) throw await failure(response, key);
  const disposition = response.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download has its own copy once it started.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}
