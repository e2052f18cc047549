import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';

/*
 * https servers on 127.0.0.1 with a self-signed certificate for `localhost`, for the base-model
 * fence's tests: the fence lets a test reach them only through its test-only options
 * (`allowLoopbackFor: ['localhost']`, `ca`). They count connections, so a test can show that a
 * refused URL was refused before anything connected.
 */

let certificate: Promise<{ key: string; cert: string }> | undefined;

/** One certificate per test process (generating one takes a moment). */
export function testCertificate(): Promise<{ key: string; cert: string }> {
  certificate ??= generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }] },
    ],
  }).then((pems) => ({ key: pems.private, cert: pems.cert }));
  return certificate;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface TestHttpsServer {
  port: number;
  /** `https://localhost:<port>`: the name the test-only fence option lets through. */
  origin: string;
  /** TCP connections accepted so far. */
  connections(): number;
  /** Request paths served so far. */
  requests: string[];
  close(): Promise<void>;
}

export async function startHttpsServer(handle: Handler): Promise<TestHttpsServer> {
  const { key, cert } = await testCertificate();
  const requests: string[] = [];
  let connections = 0;
  const server = createServer({ key, cert }, (req, res) => {
    requests.push(req.url ?? '');
    handle(req, res);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    origin: `https://localhost:${port}`,
    connections: () => connections,
    requests,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

/** Serves named files (by the last path segment); 404 for anything else. */
export const serveFiles =
  (files: () => Record<string, Uint8Array | string>): Handler =>
  (req, res) => {
    const name = (req.url ?? '').split('?')[0]!.split('/').pop()!;
    const body = files()[name];
    if (body === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-length': Buffer.byteLength(body) }).end(body);
  };

/** A port on 127.0.0.1 that nothing listens on (just closed). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

/**
 * A model.json with the structure the store checks (topology, weights manifest) and weight
 * files of the given sizes: enough for download and cache tests, not for tfjs.
 */
export function fakeModelFiles(
  weightSizes: Record<string, number>,
): Record<string, Uint8Array | string> {
  const files: Record<string, Uint8Array | string> = {
    'model.json': JSON.stringify({
      format: 'layers-model',
      modelTopology: { class_name: 'Model', config: {} },
      weightsManifest: [{ paths: Object.keys(weightSizes), weights: [] }],
    }),
  };
  for (const [name, bytes] of Object.entries(weightSizes))
    files[name] = new Uint8Array(bytes).fill(7);
  return files;
}
