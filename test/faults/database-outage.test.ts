import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { isDatabaseUnavailable } from '../../src/db/database-errors.js';
import { createDb, type Db } from '../../src/db/prisma-client.js';
import { wireApi, type ApiParts } from '../../src/runtime/wiring.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';
import { startTcpProxy, type ProxyMode, type TcpProxy } from '../helpers/tcp-proxy.js';

/*
 * PostgreSQL going away under a running API: a second app on the harness's database reaches
 * it through a TCP proxy the test cuts (refusing, resetting or ignoring new connections) and
 * restores. Every route, and the API-key check before it, answers 503 problem+json with
 * Retry-After while it is cut, and 200 again once it is back, without a restart.
 */

let h: Harness;
let proxy: TcpProxy;
let parts: ApiParts;
let app: FastifyInstance;
let key: string;
/** Created in the database but never used through the proxied app: nothing could cache it. */
let unseenKey: string;

/** Small, so a silent database fails a request in about a second. */
const CONNECT_TIMEOUT_S = 1;

function throughProxy(databaseUrl: string, port: number): string {
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  url.searchParams.set('connect_timeout', String(CONNECT_TIMEOUT_S));
  return url.toString();
}

beforeAll(async () => {
  h = await startHarness({ worker: false });
  const direct = new URL(h.config.databaseUrl);
  proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
  parts = wireApi({ ...h.config, databaseUrl: throughProxy(h.config.databaseUrl, proxy.port) });
  app = await buildApp({ ...parts.app, logger: false });
  key = await h.newKey('acme');
  unseenKey = await h.newKey('acme');
});

afterAll(async () => {
  await app?.close();
  await parts?.close();
  await proxy?.close();
  await h?.close();
});

const get = (url: string, withKey = key) =>
  app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${withKey}` } });

/** The requests the brief names: lists on two resources, and auth with a key never seen. */
const probes = () => [get('/v1/jobs'), get('/v1/datasets'), get('/v1/models', unseenKey)];

async function expectServed(): Promise<void> {
  for (const response of await Promise.all(probes())) expect(response.statusCode).toBe(200);
}

describe('PostgreSQL outage', () => {
  it.each<Exclude<ProxyMode, 'open'>>(['refused', 'reset', 'silent'])(
    'answers 503 database_unavailable with Retry-After while connections are %s, then 200 again',
    async (mode) => {
      await expectServed();
      await proxy.cut(mode);
      try {
        const started = Date.now();
        const responses = await Promise.all(probes());
        const tookMs = Date.now() - started;
        for (const response of responses) {
          expect(response.statusCode).toBe(503);
          expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
          expect(response.headers['retry-after']).toBe('5');
          expect(response.json()).toMatchObject({ status: 503, code: 'database_unavailable' });
          expect(response.body).not.toContain('127.0.0.1');
        }
        // Refused and reset fail at once; a silent host within the connect timeout.
        expect(tookMs).toBeLessThan(mode === 'silent' ? CONNECT_TIMEOUT_S * 1000 + 1500 : 1000);
        console.log(`database ${mode}: 3 requests answered 503 in ${tookMs} ms`);

        const ready = await app.inject({ method: 'GET', url: '/readyz' });
        expect(ready.statusCode).toBe(503);
        expect(ready.json()).toMatchObject({ status: 'not_ready', postgres: false, redis: true });
      } finally {
        await proxy.restore();
      }
      await expectServed();
      expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    },
  );

  it('still refuses a key that does not exist with 401 while the database is up', async () => {
    const response = await get('/v1/jobs', `graft_${'a'.repeat(12)}_${'b'.repeat(40)}`);
    expect(response.statusCode).toBe(401);
  });
});

describe('isDatabaseUnavailable, on what Prisma and node-postgres really throw', () => {
  let db: Db;
  beforeAll(() => {
    db = createDb(throughProxy(h.config.databaseUrl, proxy.port));
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  const failure = (work: Promise<unknown>) =>
    work.then(
      () => expect.fail('expected the query to fail'),
      (error: unknown) => error,
    );

  it('recognises a connection lost mid-query and a server that ends the connection', async () => {
    const sleeping = failure(db.$queryRaw`SELECT pg_sleep(5)`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await proxy.cut('reset');
    const lost = await sleeping;
    await proxy.restore();
    expect(isDatabaseUnavailable(lost)).toBe(true);

    const terminated = failure(db.$queryRaw`SELECT pg_sleep(5)`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await h.db.$queryRaw`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE query LIKE '%pg_sleep(5)%' AND pid <> pg_backend_pid()`;
    expect(isDatabaseUnavailable(await terminated)).toBe(true);
    // The pool replaces what it lost.
    expect(await db.$queryRaw`SELECT 1 AS one`).toEqual([{ one: 1 }]);
  });

  it('does not take a wrong query for an outage', async () => {
    const unique = await failure(
      db.tenant.create({ data: { name: 'acme' } }), // exists already (the keys above)
    );
    expect(isDatabaseUnavailable(unique)).toBe(false);
    expect(isDatabaseUnavailable(await failure(db.$queryRaw`SELECT * FROM no_such_table`))).toBe(
      false,
    );
    expect(isDatabaseUnavailable(new Error('something else'))).toBe(false);
  });
});
