// @ts-check
import { createParser } from '/console/vendor/eventsource-parser.js';
import { ApiError, authHeaders, problemOf, refused, session, sleep } from './api.js';

/*
 * A job's events (GET /v1/jobs/:id/events). EventSource cannot send the key, so this reads the
 * stream with fetch and parses it with eventsource-parser. After a drop it reconnects with
 * Last-Event-ID (only what it missed comes); the server ends the stream once the job is
 * finished, and answers 204 to a reconnect with nothing new. While the server cannot stream
 * events (429 too many streams, 503 events unavailable) the caller's `poll` reads the job.
 */

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * @param {string} jobId
 * @param {{
 *   onEvent: (event: any) => void,
 *   onConnection?: (state: 'live' | 'reconnecting' | 'polling' | 'ended') => void,
 *   poll: () => Promise<boolean>,
 *   signal: AbortSignal,
 * }} options `poll` reads the job as stored (while its events are unavailable) and says
 *   whether it has finished
 * @returns {Promise<'ended' | 'unsupported'>} `unsupported`: the server has no event stream
 *   (the caller polls instead)
 */
export async function followJob(jobId, { onEvent, onConnection = () => {}, poll, signal }) {
  /** @type {string | undefined} */
  let lastEventId;
  let retryMs = 1000;
  let finished = false;
  // Connections in a row that brought no event: each waits longer (a stream that ends at once
  // is not asked again every second).
  let failures = 0;
  while (!signal.aborted && !finished) {
    /** @type {number | undefined} */
    let busyFor;
    try {
      const response = await connect(jobId, lastEventId, signal);
      if (response.status === 204) break;
      if (response.status === 404 && !lastEventId) return 'unsupported';
      onConnection('live');
      const parser = createParser({
        onEvent(message) {
          if (message.id) lastEventId = message.id;
          let data;
          try {
            data = JSON.parse(message.data);
          } catch {
            return;
          }
          failures = 0;
          if (data.type === 'state' && FINISHED.has(data.status)) finished = true;
          onEvent(data);
        },
        onRetry(ms) {
          retryMs = ms;
        },
      });
      const reader = /** @type {ReadableStream<any>} */ (response.body)
        .pipeThrough(new TextDecoderStream())
        .getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
      if (finished) break;
      failures++;
    } catch (error) {
      if (signal.aborted) break;
      failures++;
      // Busy or rate-limited (too many event streams, events unavailable): the job goes on in
      // the database meanwhile, so the page reads it there until the stream is back.
      if (error instanceof ApiError && error.transient) busyFor = error.retryAfter ?? 5;
      // Any other refusal will not get better by asking again.
      else if (error instanceof ApiError && error.status >= 400 && error.status < 500) throw error;
    }
    if (signal.aborted) break;
    if (busyFor !== undefined) {
      onConnection('polling');
      finished = await poll();
      if (finished) break;
    } else {
      // The stream ended before the job did (a drop, a restart): continue after the last event.
      onConnection('reconnecting');
    }
    const backoff = Math.min(retryMs * 2 ** Math.min(failures - 1, 4), 15_000);
    const wait = Math.max(backoff, Math.min((busyFor ?? 0) * 1000, 60_000));
    await sleep(wait, signal).catch(() => {});
  }
  onConnection('ended');
  return 'ended';
}

/**
 * One connection: its response when it streams (or is 204/404), else the refusal as an ApiError.
 * @param {string} jobId @param {string | undefined} lastEventId @param {AbortSignal} signal
 */
async function connect(jobId, lastEventId, signal) {
  const key = session.key ?? '';
  /** @type {Record<string, string>} */
  const headers = { ...authHeaders(key), accept: 'text/event-stream' };
  if (lastEventId) headers['last-event-id'] = lastEventId;
  const response = await fetch(`/v1/jobs/${encodeURIComponent(jobId)}/events`, {
    headers,
    signal,
    cache: 'no-store',
  });
  if (response.status === 204 || (response.status === 404 && !lastEventId)) return response;
  if (!response.ok || !response.body) {
    const text = await response.text().catch(() => '');
    const error = problemOf(response.status, text, response.headers.get('retry-after'));
    refused(response.status, error, key);
    throw error;
  }
  return response;
}
