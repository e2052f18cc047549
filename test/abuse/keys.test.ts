import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/service-harness.js';

/*
 * Key management against the real server: a tenant creates, lists and revokes its own keys; a
 * revoked key is refused on the very next request; another tenant's keys are out of reach.
 * (New routes go through app.inject until the typed client knows them.)
 */

let h: Harness;
let acme: string;
let globex: string;

beforeAll(async () => {
  h = await startHarness({ worker: false, env: { GRAFT_RATE_LIMITS: 'off' } });
  acme = await h.newKey('acme');
  globex = await h.newKey('globex');
});

afterAll(async () => {
  await h?.close();
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const call = (
  key: string,
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  payload?: Record<string, unknown>,
) =>
  h.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${key}` },
    ...(payload ? { payload } : {}),
  });

interface KeyItem {
  id: string;
  prefix: string;
  name: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

async function listKeys(key: string): Promise<KeyItem[]> {
  const response = await call(key, 'GET', '/v1/keys');
  expect(response.statusCode).toBe(200);
  return response.json<{ items: KeyItem[] }>().items;
}

describe('API keys', () => {
  it('creates a key shown once, lists keys without secrets, and records use', async () => {
    const created = await call(acme, 'POST', '/v1/keys', { name: 'ci runner' });
    expect(created.statusCode).toBe(201);
    const body = created.json<KeyItem & { key: string }>();
    expect(body).toEqual({
      id: expect.stringMatching(UUID) as string,
      prefix: expect.stringMatching(/^[a-z0-9]{12}$/) as string,
      name: 'ci runner',
      createdAt: expect.stringMatching(TIMESTAMP) as string,
      lastUsedAt: null,
      revokedAt: null,
      key: expect.stringMatching(/^graft_[a-z0-9]{12}_/) as string,
    });
    expect(body.key.startsWith(`graft_${body.prefix}_`)).toBe(true);

    // The new key works, for the same tenant, and its use is recorded.
    const before = Date.now();
    expect((await call(body.key, 'GET', '/v1/datasets')).statusCode).toBe(200);
    const items = await listKeys(body.key);
    expect(items).toHaveLength(2);
    for (const item of items)
      expect(Object.keys(item).sort()).toEqual(
        Object.keys(body)
          .filter((k) => k !== 'key')
          .sort(),
      );
    const mine = items.find((item) => item.id === body.id)!;
    expect(Date.parse(mine.lastUsedAt!)).toBeGreaterThanOrEqual(before - 1000);
    expect(JSON.stringify(items)).not.toContain(body.key);

    // Throttled: another use within the minute does not write again.
    await call(body.key, 'GET', '/v1/datasets');
    const row = await h.db.apiKey.findUniqueOrThrow({ where: { id: body.id } });
    expect(row.lastUsedAt!.toISOString()).toBe(mine.lastUsedAt);

    // Another tenant sees only its own keys.
    const theirs = await listKeys(globex);
    expect(theirs.map((item) => item.id)).not.toContain(body.id);
  });

  it('revokes a key at once: the next request with it is 401', async () => {
    // No body at all: an unnamed key.
    const { key, id } = (await call(acme, 'POST', '/v1/keys')).json<{
      key: string;
      id: string;
    }>();
    expect((await call(key, 'GET', '/v1/datasets')).statusCode).toBe(200);
    const revoked = await call(acme, 'DELETE', `/v1/keys/${id}`);
    expect(revoked.statusCode).toBe(204);
    const refused = await call(key, 'GET', '/v1/datasets');
    expect(refused.statusCode).toBe(401);
    expect(refused.json()).toMatchObject({ code: 'unauthorized' });
    const listed = (await listKeys(acme)).find((item) => item.id === id)!;
    expect(listed.revokedAt).toMatch(TIMESTAMP);
    expect(listed.name).toBeNull();
    // Revoking again changes nothing.
    expect((await call(acme, 'DELETE', `/v1/keys/${id}`)).statusCode).toBe(204);
    expect((await listKeys(acme)).find((item) => item.id === id)!.revokedAt).toBe(listed.revokedAt);
  });

  it("refuses to revoke another tenant's key (404), which keeps working", async () => {
    const { id } = (await listKeys(acme))[0]!;
    const response = await call(globex, 'DELETE', `/v1/keys/${id}`);
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ code: 'not_found' });
    expect((await call(acme, 'GET', '/v1/datasets')).statusCode).toBe(200);
    expect((await call(globex, 'DELETE', `/v1/keys/${crypto.randomUUID()}`)).statusCode).toBe(404);
    expect((await call(globex, 'DELETE', '/v1/keys/not-a-uuid')).statusCode).toBe(400);
  });

  it('lets a tenant revoke the key it is using', async () => {
    const key = (await call(globex, 'POST', '/v1/keys', { name: 'short-lived' })).json<{
      key: string;
      id: string;
    }>();
    expect((await call(key.key, 'DELETE', `/v1/keys/${key.id}`)).statusCode).toBe(204);
    expect((await call(key.key, 'GET', '/v1/keys')).statusCode).toBe(401);
    expect((await call(globex, 'GET', '/v1/keys')).statusCode).toBe(200);
  });

  it('validates key names and needs a key itself', async () => {
    for (const name of ['evil\u202Etxt.exe', 'tab\there', 'x'.repeat(201)]) {
      const response = await call(acme, 'POST', '/v1/keys', { name });
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    const nfd = await call(acme, 'POST', '/v1/keys', { name: 'cafe\u0301' });
    expect(nfd.json<KeyItem>().name).toBe('caf\u00e9');
    expect((await h.app.inject({ method: 'GET', url: '/v1/keys' })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'POST', url: '/v1/keys', payload: {} })).statusCode).toBe(
      401,
    );
  });
});
