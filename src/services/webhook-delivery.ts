import { createHmac } from 'node:crypto';
import * as https from 'node:https';
import type { WebhookSettings } from '../config/config.js';
import type { WebhooksRepository } from '../db/webhooks.repository.js';
import { guardSocket } from '../storage/fenced-download.js';
import {
  checkUrl,
  fencedLookup,
  UrlRefused,
  type FenceTestOptions,
  type UrlPolicy,
} from '../storage/url-fence.js';
import { isWebhookEventType } from './webhooks.service.js';
import { deliveryType } from '../contracts/webhook-views.js';
import { webhookDeliveryAttempts } from '../observability/metrics.js';

/*
 * One attempt of a webhook delivery: a signed POST within the same fence as base-model URLs
 * (https, an allowed host, and only public addresses, checked inside the socket's own DNS
 * lookup and again once connected). Redirects are not followed, and at most a few KB of the
 * answer are read.
 */

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>` (Stripe's scheme). */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** How much of an answer is read before the connection is dropped. */
const MAX_ANSWER_BYTES = 4096;

/**
 * Connecting (the fenced DNS lookup, TCP and TLS) may take at most this long of an attempt's
 * timeout: an endpoint that does not even accept connections frees its delivery slot early.
 */
const CONNECT_TIMEOUT_MS = 3_000;

interface Answer {
  statusCode: number;
}

function post(
  url: URL,
  body: string,
  headers: Record<string, string>,
  policy: UrlPolicy,
  timeoutMs: number,
): Promise<Answer> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), timeoutMs);
  return new Promise<Answer>((resolve, reject) => {
    const request = https.request(url, {
      method: 'POST',
      agent: false,
      signal: timeout.signal,
      lookup: fencedLookup(policy),
      ...(policy.ca ? { ca: policy.ca as string | string[] } : {}),
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      timeout: timeoutMs,
    });
    const fail = (error: Error) => request.destroy(error);
    const connectMs = Math.min(CONNECT_TIMEOUT_MS, timeoutMs);
    request.on('socket', (socket) => {
      guardSocket(socket, url, policy, fail);
      const connecting = setTimeout(
        () => fail(new Error(`could not connect within ${connectMs} ms`)),
        connectMs,
      );
      socket.once('secureConnect', () => clearTimeout(connecting));
      socket.once('close', () => clearTimeout(connecting));
    });
    request.on('timeout', () => fail(new Error(`no answer within ${timeoutMs} ms`)));
    request.on('error', (error) =>
      reject(timeout.signal.aborted ? new Error(`no answer within ${timeoutMs} ms`) : error),
    );
    request.on('response', (response) => {
      const statusCode = response.statusCode ?? 0;
      let read = 0;
      const done = () => resolve({ statusCode });
      response.on('data', (chunk: Buffer) => {
        read += chunk.byteLength;
        if (read > MAX_ANSWER_BYTES) {
          response.destroy();
          done();
        }
      });
      response.on('end', done);
      response.on('close', done);
      response.on('error', done);
    });
    request.end(body);
  }).finally(() => clearTimeout(timer));
}

/** What failed, for the delivery log: the tenant's own URL, so codes and statuses are fine. */
function describe(error: unknown): string {
  if (error instanceof UrlRefused) return `refused: ${error.message}`;
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error as Error).message ?? String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}

export type AttemptOutcome =
  /** The delivery is gone (its webhook was deleted) or already ended: nothing was sent. */
  | { kind: 'gone' }
  | { kind: 'succeeded'; statusCode: number }
  /** Failed; `final` when no attempt is left (or a retry cannot help: the URL is refused). */
  | { kind: 'failed'; error: string; final: boolean };

export interface Attempt {
  deliveryId: string;
  /** 1 for the first try. */
  attempt: number;
  maxAttempts: number;
}

/** Makes attempts of deliveries and records each in the delivery's row. */
export class WebhookDeliverer {
  private readonly policy: UrlPolicy;

  /** `fence`: test-only exceptions (a receiver on loopback, its certificate); never from the environment. */
  constructor(
    private readonly webhooks: WebhooksRepository,
    private readonly settings: Pick<WebhookSettings, 'allowHosts' | 'timeoutMs' | 'disableAfter'>,
    fence: FenceTestOptions = {},
  ) {
    this.policy = { ...fence, trust: 'tenant', allowHosts: settings.allowHosts };
  }

  async attempt({ deliveryId, attempt, maxAttempts }: Attempt): Promise<AttemptOutcome> {
    const target = await this.webhooks.target(deliveryId);
    if (!target || target.status !== 'pending') return { kind: 'gone' };
    if (target.disabled) {
      // Its webhook was disabled after it was queued: it ends, saying so, and is not sent.
      await this.webhooks.dropDisabled(deliveryId);
      return { kind: 'gone' };
    }
    const type = isWebhookEventType(target.eventType)
      ? deliveryType(target.eventType)
      : target.eventType;
    let statusCode: number | null = null;
    let error: string;
    let retryable = true;
    try {
      const url = new URL(target.url);
      // Again at every attempt: the operator's allow-list may have changed since.
      checkUrl(url, this.policy);
      const answer = await post(
        url,
        target.requestBody,
        {
          'content-type': 'application/json',
          'user-agent': 'Graft-Webhooks/1',
          'graft-delivery': target.id,
          'graft-event': type,
          'graft-signature': signatureHeader(
            target.secret,
            target.requestBody,
            Math.floor(Date.now() / 1000),
          ),
        },
        this.policy,
        this.settings.timeoutMs,
      );
      statusCode = answer.statusCode;
      if (statusCode >= 200 && statusCode < 300) {
        await this.webhooks.recordAttempt(deliveryId, {
          attempts: attempt,
          statusCode,
          error: null,
          status: 'succeeded',
        });
        webhookDeliveryAttempts.inc({ outcome: 'succeeded' });
        return { kind: 'succeeded', statusCode };
      }
      error =
        statusCode >= 300 && statusCode < 400
          ? `HTTP ${statusCode} (redirects are not followed)`
          : `HTTP ${statusCode}`;
    } catch (caught) {
      error = describe(caught);
      // A URL or address the fence refuses stays refused: retrying only delays the verdict.
      retryable = !(caught instanceof UrlRefused);
    }
    const final = !retryable || attempt >= maxAttempts;
    webhookDeliveryAttempts.inc({ outcome: final ? 'failed' : 'retry' });
    await this.webhooks.recordAttempt(
      deliveryId,
      { attempts: attempt, statusCode, error, status: final ? 'failed' : 'pending' },
      this.settings.disableAfter,
    );
    return { kind: 'failed', error, final };
  }
}
