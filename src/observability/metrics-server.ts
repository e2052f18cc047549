import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MetricsSettings } from '../config/config.js';
import { enableDefaultMetrics, metricsAccess, scrape } from './metrics.js';

export interface MetricsServer {
  /** The port it listens on (the one asked for, or the one given for 0). */
  port: number;
  close(): Promise<void>;
}

function problem(response: ServerResponse, status: number, code: string, detail: string): void {
  response.writeHead(status, { 'content-type': 'application/problem+json' });
  response.end(
    JSON.stringify({
      type: `urn:graft:problem:${code}`,
      title: code,
      status,
      detail,
      code,
    }),
  );
}

/**
 * A worker process's own `GET /metrics` (GRAFT_METRICS_PORT): the API's rule for who may read
 * it (metricsAccess), nothing else on the port. Each worker is a Prometheus target of its own.
 */
export async function serveMetrics(
  settings: MetricsSettings,
  host: string,
  port: number,
): Promise<MetricsServer> {
  enableDefaultMetrics();
  const server = createServer((request, response) => {
    const path = (request.url ?? '').split('?')[0];
    const notFound = () =>
      problem(response, 404, 'not_found', `no route ${request.method} ${path ?? ''}`);
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD'))
      return notFound();
    const access = metricsAccess(settings, request.headers.authorization);
    if (access === 'hidden') return notFound();
    if (access === 'unauthorized') {
      response.setHeader('www-authenticate', 'Bearer realm="graft-metrics"');
      return problem(response, 401, 'unauthorized', 'send the metrics token as a bearer token');
    }
    scrape().then(
      ({ contentType, body }) => {
        response.writeHead(200, { 'content-type': contentType });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      () => problem(response, 500, 'internal_error', 'the metrics could not be collected'),
    );
  });
  // A scraper never needs long: a stalled connection is dropped.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
