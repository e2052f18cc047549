import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { JobEvent, type JobEventView } from '../../contracts/job-events.js';
import type { JobEventsFeed } from '../../services/job-events-feed.js';
import type { StoredJobEvent } from '../../queue/job-event-stream.js';
import { exampleJob } from '../examples.js';
import { AUTH_PROBLEMS, eventStream, NoContent, problems } from '../responses.js';
import { IdParams } from '../schemas.js';

const EVENT_ID = '^[0-9]{1,20}-[0-9]{1,20}$';
const eventId = (description: string) =>
  Type.String({
    pattern: EVENT_ID,
    description: `${description} (each part at most 2^64-1)`,
    examples: ['1764324000000-0'],
  });

/** One event as Server-Sent Events put it: its stream id, its type as the name, its JSON. */
const frame = ({ id, event }: StoredJobEvent) =>
  `id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

const exampleEvents: [string, JobEventView][] = [
  [
    '1764324000000-0',
    {
      type: 'progress',
      jobId: exampleJob.id,
      at: '2026-11-28T10:00:00.000Z',
      phase: 'fineTuning',
      progress: 0.62,
      epoch: 3,
      epochs: 5,
      batch: 12,
      batches: 40,
      loss: 0.071,
      accuracy: 0.98,
      etaSeconds: 41,
    },
  ],
  [
    '1764324004000-0',
    {
      type: 'state',
      jobId: exampleJob.id,
      at: '2026-11-28T10:00:04.000Z',
      status: 'succeeded',
      cancelRequested: false,
      error: null,
      modelId: exampleJob.modelId,
    },
  ],
  [
    '1764324004000-1',
    {
      type: 'report',
      jobId: exampleJob.id,
      at: '2026-11-28T10:00:04.000Z',
      modelId: exampleJob.modelId!,
      metrics: exampleJob.metrics!,
    },
  ],
];
const example = exampleEvents.map(([id, event]) => frame({ id, event })).join('');

export const jobEventsRoutes: FastifyPluginAsyncTypebox<{ feed: JobEventsFeed }> = async (
  app,
  { feed },
) => {
  // Streams never finish by themselves: closing the API ends them (their clients reconnect,
  // with Last-Event-ID, to another replica), so that `app.close()` can drain.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
    feed.closeAll();
  });

  app.get(
    '/jobs/:id/events',
    {
      schema: {
        operationId: 'watchJobEvents',
        tags: ['jobs'],
        summary: "A job's events as they happen (Server-Sent Events)",
        description:
          "A `text/event-stream` of the job: each event has the `id:` of its place in the job's stream, the `event:` name of its type and, as `data:`, one `JobEvent` (see the schemas `JobStateEvent`, `JobProgressEvent`, `JobEpochEvent`, `JobReportEvent`). Without `Last-Event-ID` the job's events so far are sent first (events are kept for `GRAFT_JOB_EVENTS_TTL_HOURS` after the last one), then the new ones as they come; with it (the header, or `lastEventId` for clients that cannot set headers), only those after it, on any API replica. States, epochs and the report are all kept; of `progress`, which says where the job is now, only about the latest 10,000 (some 40 minutes of a run), so a replay of a long run shows its recent progress only. A comment line (`: heartbeat`) is sent after 15 s without events. The response ends once the job has finished and its last events (its final `state`, and its `report` when it succeeded) were sent; asked again after those, it answers 204 so that an EventSource stops. It also ends after an hour, or when the API replica shuts down: reconnect with `Last-Event-ID` to go on.",
        params: IdParams,
        querystring: Type.Object({
          lastEventId: Type.Optional(
            eventId('The id of the last event received: only those after it are sent'),
          ),
        }),
        headers: Type.Object({
          'last-event-id': Type.Optional(
            eventId('The id of the last event received (EventSource sends it on reconnecting)'),
          ),
        }),
        response: {
          200: eventStream(
            "The job's events: `event:` is the type (`state`, `progress`, `epoch`, `report`), `data:` one `JobEvent` as JSON, `id:` what to send back as `Last-Event-ID`",
            example,
            JobEvent,
          ),
          204: {
            ...NoContent,
            description: 'The job has finished and nothing came after Last-Event-ID',
          },
          ...problems(400, 404, ...AUTH_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'] ?? request.query.lastEventId;
      const watch = await feed.watch(request.principal.tenantId, request.params.id, lastEventId);
      if (!watch) return reply.code(204).send(null);
      // From here the response is ours: a stream that may last hours.
      reply.hijack();
      const raw = reply.raw;
      // Headers the hooks set (request id, rate limits), then the stream's own.
      for (const [name, value] of Object.entries(reply.getHeaders()))
        if (value !== undefined) raw.setHeader(name, value);
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        // nginx and the like would otherwise hold events back in their buffers.
        'x-accel-buffering': 'no',
      });
      raw.flushHeaders();
      raw.once('close', () => watch.close());
      /** Resolves when the client took the chunk (or is gone): a slow one holds its stream. */
      const write = (chunk: string) =>
        raw.write(chunk)
          ? undefined
          : new Promise<void>((resolve) => {
              const done = () => {
                raw.off('drain', done);
                raw.off('close', done);
                resolve();
              };
              raw.once('drain', done);
              raw.once('close', done);
            });
      try {
        for await (const item of watch.items()) {
          if (raw.destroyed) break;
          await write(item === 'heartbeat' ? ': heartbeat\n\n' : frame(item));
        }
      } catch (error) {
        // Redis or PostgreSQL went away mid-stream: the client reconnects with its last id.
        request.log.warn({ err: error }, 'a job event stream broke off');
      } finally {
        watch.close();
        raw.end();
        // Closing waits for every connection: a kept-alive one would hold it up.
        if (closing) raw.socket?.end();
      }
    },
  );
};
