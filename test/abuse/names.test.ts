import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { file, formBody, injectClient, type GraftClient } from '../client/graft-client.js';
import { photo, zip } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';

/*
 * Names and labels people see: dataset names and class folders are NFC-normalised, at most 200
 * characters, and never hold control or bidirectional-text characters; the rejected list a
 * dataset shows is capped, with a count.
 */

let h: Harness;
let api: GraftClient;

beforeAll(async () => {
  h = await startHarness({ worker: false, env: { GRAFT_RATE_LIMITS: 'off' } });
  api = injectClient(h.app, await h.newKey('names'));
});

afterAll(async () => {
  await h?.close();
});

async function twoClasses(red = 'red', blue = 'blue', extra: Record<string, Buffer> = {}) {
  const files: Record<string, Buffer> = { ...extra };
  for (let i = 0; i < 2; i++) {
    files[`${red}/r${i}.jpg`] = await photo([210, 40, 40], i);
    files[`${blue}/b${i}.jpg`] = await photo([40, 60, 210], i + 9);
  }
  return zip(files);
}

const upload = (content: Buffer, name?: string) =>
  api.POST(
    '/v1/datasets',
    formBody('/v1/datasets', {
      file: file(content, 'data.zip', 'application/zip'),
      ...(name === undefined ? {} : { name }),
    }),
  );

describe('dataset names', () => {
  it('stores names NFC-normalised', async () => {
    const { data, response } = await upload(await twoClasses(), '  cafe\u0301 photos ');
    expect(response.status).toBe(201);
    expect(data!.name).toBe('caf\u00e9 photos');
  });

  it.each([
    ['a right-to-left override', 'invoice\u202Egpj.exe'],
    ['a bidi isolate', 'a\u2066b'],
    ['a control character', 'line\u0007bell'],
    ['a line separator', 'one\u2028two'],
    ['201 characters', 'x'.repeat(201)],
  ])('refuses a name with %s (400 invalid_name), storing nothing', async (_what, name) => {
    const before = await h.db.dataset.count();
    const { error, response } = await upload(await twoClasses(), name);
    expect(response.status).toBe(400);
    expect(error).toMatchObject({ code: 'invalid_name', status: 400 });
    expect(await h.db.dataset.count()).toBe(before);
  });

  it('accepts 200 characters, counted as characters, not UTF-16 units', async () => {
    const { response } = await upload(await twoClasses(), '🐝'.repeat(200));
    expect(response.status).toBe(201);
  });
});

describe('labels', () => {
  it('merges class folders that are NFC/NFD twins into one NFC class', async () => {
    const nfd = 'cafe\u0301';
    const files: Record<string, Buffer> = {};
    files[`${nfd}/a.jpg`] = await photo([210, 40, 40], 1);
    files['caf\u00e9/b.jpg'] = await photo([210, 40, 40], 2);
    files['tea/c.jpg'] = await photo([40, 60, 210], 3);
    files['tea/d.jpg'] = await photo([40, 60, 210], 4);
    const { data, response } = await upload(await zip(files));
    expect(response.status).toBe(201);
    expect(data!.classes).toEqual([
      { name: 'caf\u00e9', count: 2 },
      { name: 'tea', count: 2 },
    ]);
  });

  it.each([
    ['a bidi override in a class folder', 'red\u202Eder', 400, 'invalid_file_name'],
    ['a bidi mark in a class folder', 'red\u200Fx', 400, 'invalid_file_name'],
    ['a class folder of 201 characters', 'r'.repeat(201), 400, 'invalid_label'],
  ])('refuses %s, storing nothing', async (_what, label, status, code) => {
    const before = await h.db.dataset.count();
    const { error, response } = await upload(await twoClasses(label));
    expect(response.status).toBe(status);
    expect(error).toMatchObject({ code });
    expect(JSON.stringify(error)).not.toMatch(/[\u202a-\u202e\u200e\u200f]/);
    expect(await h.db.dataset.count()).toBe(before);
  });
});

describe('rejected files', () => {
  it('shows the first 100 with the count of all', async () => {
    const junk: Record<string, Buffer> = {};
    for (let i = 0; i < 130; i++) junk[`red/notes-${i}.txt`] = Buffer.from(`note ${i}`);
    const { data, response } = await upload(await twoClasses('red', 'blue', junk));
    expect(response.status).toBe(201);
    expect(data!.rejected).toHaveLength(100);
    expect(data).toMatchObject({ rejectedCount: 130 });
    const listed = await api.GET('/v1/datasets/{id}', { params: { path: { id: data!.id } } });
    expect(listed.data).toEqual(data);
  });
});
