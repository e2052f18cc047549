import { EventSourceParserStream } from 'eventsource-parser/stream';
import type { JobEventView } from '../../src/contracts/job-events.js';

/** One Server-Sent Event of `GET /v1/jobs/:id/events`, its JSON parsed. */
export interface ReceivedEvent {
  id: string;
  event: string;
  data: JobEventView;
}

export interface EventsResponse {
  status: number;
  headers: Headers;
  /** The events as they come; ends when the server ends the response (or on `close`). */
  events: AsyncGenerator<ReceivedEvent>;
  /** Drops the connection, as a client that goes away does. */
  close(): void;
  /** The body of a response that is not a stream (a problem, or nothing for 204). */
  text(): Promise<string>;
}

/** `GET <baseUrl>/v1/jobs/<jobId>/events` the way the console reads it: fetch, then parse. */
export async function openJobEvents(
  baseUrl: string,
  key: string,
  jobId: string,
  options: { lastEventId?: string; query?: string } = {},
): Promise<EventsResponse> {
  const controller = new AbortController();
  const response = await fetch(
    `${baseUrl}/v1/jobs/${jobId}/events${options.query ? `?${options.query}` : ''}`,
    {
      headers: {
        authorization: `Bearer ${key}`,
        accept: 'text/event-stream',
        ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
      },
      signal: controller.signal,
    },
  );
  async function* events(): AsyncGenerator<ReceivedEvent> {
    if (!response.body) return;
    const reader = response.body
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(new EventSourceParserStream())
      .getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read().catch((error: unknown) => {
          // Our own close() aborts the read: that is the end, not a failure.
          if (controller.signal.aborted) return { done: true as const, value: undefined };
          throw error;
        });
        if (done) return;
        yield { id: value.id!, event: value.event!, data: JSON.parse(value.data) as JobEventView };
      }
    } finally {
      reader.releaseLock();
    }
  }
  return {
    status: response.status,
    headers: response.headers,
    events: events(),
    close: () => controller.abort(),
    text: () => response.text(),
  };
}

/** Every event until the server ends the stream (or `until` says enough: then it drops it). */
export async function collect(
  response: EventsResponse,
  until?: (received: ReceivedEvent[]) => boolean,
): Promise<ReceivedEvent[]> {
  const received: ReceivedEvent[] = [];
  for await (const event of response.events) {
    received.push(event);
    if (until?.(received)) {
      response.close();
      break;
    }
  }
  return received;
}

/** Stream ids compare as (milliseconds, sequence). */
export function idOrder(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}

/** True when each id is after the one before. */
export const strictlyIncreasing = (ids: string[]) =>
  ids.every((id, i) => i === 0 || idOrder(ids[i - 1]!, id) < 0);
