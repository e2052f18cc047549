import type { Readable } from 'node:stream';
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';
import { ref } from '../contracts/schema-ref.js';
import { Problem } from './schemas.js';

/** What each problem status means on this API, for the document. */
const PROBLEM_MEANING = {
  400: 'The request is malformed (see `errors` for which field)',
  401: 'No valid API key (`Authorization: Bearer <key>`)',
  403: 'Over a quota of your tenant (code `quota_exceeded`; `quota`, `limit`, `used` and `requested` say which and how far)',
  404: 'No such resource for your tenant',
  409: 'The resource is in a state that does not allow this',
  413: 'Too large',
  415: 'Unsupported content type',
  422: 'Well-formed, but cannot be used (the `detail` says why)',
  429: 'Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget',
  500: 'A fault on our side; it has been logged',
  503: 'Busy, or a dependency is unavailable: retry after `Retry-After` seconds',
  507: 'The server has no disk space left to store this (code `insufficient_storage`); nothing was kept',
} as const;
export type ProblemStatus = keyof typeof PROBLEM_MEANING;

/** A JSON response with its description and an example, typed by its schema. */
export function json<T extends TSchema>(schema: T, description: string, example: Static<T>) {
  return {
    description,
    content: { 'application/json': { schema: schema.$id ? ref(schema) : schema, example } },
  } as unknown as T;
}

/** A file download (a stream or bytes in the handler). */
export function binary(contentType: string, description: string) {
  return {
    description,
    content: { [contentType]: { schema: Type.String({ format: 'binary' }) } },
  } as unknown as TUnsafe<Readable | Buffer>;
}

/**
 * A Server-Sent Events stream (text/event-stream, written by the handler); `item` is the schema
 * of each event's data (a named schema in components).
 */
export function eventStream(description: string, example: string, item: TSchema) {
  return {
    description,
    // OpenAPI 3.1 has no schema for a stream's items (3.2's `itemSchema`): JSON Schema's
    // `contentSchema` names what each event's `data:` holds.
    content: {
      'text/event-stream': {
        schema: Type.String({ contentMediaType: 'application/json', contentSchema: ref(item) }),
        example,
      },
    },
  } as unknown as TUnsafe<string>;
}

/** application/problem+json responses for these statuses. */
export function problems<S extends ProblemStatus>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: PROBLEM_MEANING[status],
        content: { 'application/problem+json': { schema: ref(Problem) } },
      },
    ]),
  ) as unknown as Record<S, typeof Problem>;
}

/**
 * Problems every authenticated route may answer: no key, a fault, its key's rate limit
 * (api/plugins/rate-limits.ts) and load shedding (api/plugins/load-shedding.ts).
 */
export const AUTH_PROBLEMS = [401, 429, 500, 503] as const;

export const NoContent = Type.Null({ description: 'Done; no body' });
