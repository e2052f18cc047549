import type { FastifyInstance } from 'fastify';
import createClient, { type Client } from 'openapi-fetch';
import type { paths } from './openapi-types.js';

/*
 * The typed client the HTTP tests and benchmarks use, generated from openapi.yaml (the committed
 * snapshot of the routes' schemas): a route that disagrees with its document fails to compile
 * or fails a test.
 */

export type GraftClient = Client<paths>;

const headers = (apiKey?: string) => (apiKey ? { authorization: `Bearer ${apiKey}` } : undefined);

/** A client of a running server (benchmarks). */
export function graftClient(baseUrl: string, apiKey?: string): GraftClient {
  return createClient<paths>({ baseUrl, headers: headers(apiKey) });
}

/** A client whose requests go through `app.inject`: no port, same routes, same document. */
export function injectClient(app: FastifyInstance, apiKey?: string): GraftClient {
  return createClient<paths>({
    baseUrl: 'http://graft.test',
    headers: headers(apiKey),
    fetch: async (request: Request) => {
      const url = new URL(request.url);
      const payload = request.body ? Buffer.from(await request.arrayBuffer()) : undefined;
      const response = await app.inject({
        method: request.method as 'GET',
        url: url.pathname + url.search,
        headers: Object.fromEntries(request.headers),
        ...(payload ? { payload } : {}),
      });
      const empty = response.statusCode === 204 || response.rawPayload.length === 0;
      return new Response(empty ? null : response.rawPayload, {
        status: response.statusCode,
        headers: Object.entries(response.headers).flatMap(([name, value]) =>
          value === undefined ? [] : [[name, String(value)] as [string, string]],
        ),
      });
    },
  });
}

type FormPath = {
  [P in keyof paths]: paths[P] extends {
    post: { requestBody: { content: { 'multipart/form-data': object } } };
  }
    ? P
    : never;
}[keyof paths];

/** A route's multipart fields as the document declares them. */
type FormFields<P extends FormPath> =
  paths[P]['post']['requestBody']['content']['multipart/form-data'];

/** The generated types spell `format: binary` as `string`: a file is a Blob (a File keeps its name). */
type WithFiles<F> = {
  [K in keyof F]: F[K] extends string ? string | Blob : F[K] extends string[] ? Blob[] : F[K];
};

/**
 * The `body` of a multipart call, its field names and required fields checked against the
 * document: `client.POST('/v1/datasets', formBody('/v1/datasets', { file }))`. openapi-fetch
 * sends FormData as it is, and fetch writes the boundary.
 */
export function formBody<P extends FormPath>(
  _path: P,
  fields: WithFiles<FormFields<P>>,
): { body: FormFields<P> } {
  const form = new FormData();
  for (const [name, value] of Object.entries(fields as Record<string, unknown>)) {
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (item instanceof Blob) form.append(name, item);
      else if (typeof item === 'string') form.append(name, item);
    }
  }
  return { body: form as unknown as FormFields<P> };
}

/** A named file for a multipart field. */
export const file = (content: Buffer, name: string, type = 'application/octet-stream'): File =>
  new File([content], name, { type });
