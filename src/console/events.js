// @ts-check
import { createParser } from '/console/vendor/eventsource-parser.js';
import { ApiError, authHeaders, refused, session } from './api.js';

/*
 * A job's events (GET /v1/jobs/:id/events). EventSource cannot send the key, so this reads the
 * stream with fetch and parses it with eventsource-parser. After a drop it reconnects with
 * Last-Event-ID (only what it missed comes); the server ends the stream once the job is
 * finished, and answers 204 to a reconnect with nothing new.
 */

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/**
 * @param {string} jobId
 * @param {{
 *   onEvent: (event: any) => void,
 *   onConnection?: (state: 'live' | 'reconnecting' | 'ended') => void,
 *   signal: AbortSignal,
 * }} options
 * @returns {Promise<'ended' | 'unsupported'>} `unsupported`: the server has no event stream
 *   (the caller polls instead)
 */
export async function followJob(jobId, { onEvent, onConnection = () => {}, signal }) {
  /** @type {string | undefined} */
  let lastEventId;
  let retryMs = 1000;
  let finished = false;
  let failures = 0;
  while (!signal.aborted) {
    try {
      const key = session.key ?? '';
      /** @type {Record<string, string>} */
      const headers = { ...authHeaders(key), accept: 'text/event-stream' };
      if (lastEventId) headers['last-event-id'] = lastEventId;
      const response = await fetch(`/v1/jobs/${encodeURIComponent(jobId)}/events`, {
        headers,
        signal,
        cache: 'no-store',
      });
      if (response.status === 204) break;
      if (response.status === 404 && !lastEventId) return 'unsupported';
      if (!response.ok || !response.body) {
        const text = await response.text().catch(() => '');
        let problem = {};
        try {
          problem = JSON.parse(text);
        } catch {
          // not JSON
        }
        const error = new ApiError(response.status, problem);
        refused(response.status, error, key);
        throw error;
      }
      onConnection('live');
      failures = 0;
      const parser = createParser({
        onEvent(message) {
          if (message.id) lastEventId = message.id;
          let data;
          try {
            data = JSON.parse(message.data);
          } catch {
            return;
          }
          if (data.type === 'state' && FINISHED.has(data.status)) finished = true;
          onEvent(data);
        },
        onRetry(ms) {
          retryMs = ms;
        },
      });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
      if (finished) break;
    } catch (error) {
      if (signal.aborted) break;
      // A refusal (a 4xx other than a dropped connection) will not get better by retrying.
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) throw error;
      failures++;
    }
    if (signal.aborted) break;
    // The stream ended before the job did (a drop, a restart): continue after the last event.
    onConnection('reconnecting');
    const wait = Math.min(retryMs * 2 ** Math.min(failures, 4), 15_000);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  onConnection('ended');
  return 'ended';
}
