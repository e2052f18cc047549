import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/*
 * Structured logs (pino, JSON lines, as the API's Fastify logger writes them). The API's
 * request lines carry `requestId`; everything a worker logs about a job carries `jobId`,
 * `tenantId` and, when an API request queued it, that request's `requestId`, so one job can be
 * followed from the request that queued it to the worker that trained it.
 */

export interface LoggerOptions {
  /** pino's level (LOG_LEVEL): trace, debug, info, warn, error, fatal or silent. */
  level?: string;
  /** Where the lines go; standard output by default (written at once: a worker may exit). */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    { level: options.level ?? 'info' },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

let fallback: Logger | undefined;

/**
 * The logger of code given none (unit tests, tools): warnings and errors only, to standard
 * output. Entry points build theirs from LOG_LEVEL and pass it down.
 */
export function defaultLogger(): Logger {
  return (fallback ??= createLogger({ level: 'warn' }));
}

/** What ties a log line to a training job. */
export interface JobLogContext {
  jobId?: string;
  tenantId?: string;
  requestId?: string;
}

/**
 * `base` bound to a job: each of `context`'s ids that is set and that `base` does not carry
 * yet (a logger bound once is bound again safely, without repeated keys).
 */
export function jobLogger(base: Logger, context: JobLogContext): Logger {
  const bound = base.bindings();
  const add = Object.fromEntries(
    Object.entries(context).filter(
      ([key, value]) => typeof value === 'string' && value !== '' && !(key in bound),
    ),
  );
  return Object.keys(add).length === 0 ? base : base.child(add);
}
