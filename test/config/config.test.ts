import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseRateLimit } from '../../src/config/config.js';

describe('rate limits in settings', () => {
  it('reads <requests>/<window> with units ms, s, m and h', () => {
    expect(parseRateLimit('100/10s')).toEqual({ max: 100, windowMs: 10_000 });
    expect(parseRateLimit(' 5 / m ')).toEqual({ max: 5, windowMs: 60_000 });
    expect(parseRateLimit('20/s')).toEqual({ max: 20, windowMs: 1000 });
    expect(parseRateLimit('1/250ms')).toEqual({ max: 1, windowMs: 250 });
    expect(parseRateLimit('3/2h')).toEqual({ max: 3, windowMs: 7_200_000 });
  });

  it('refuses anything else', () => {
    for (const raw of ['0/10s', '10', '10/', '10/0s', '10/d', '-1/s', '1.5/s', 'ten/s'])
      expect(parseRateLimit(raw), raw).toBeUndefined();
    expect(() => loadConfig({ GRAFT_RATE_JOBS: '10 per minute' })).toThrow(ConfigError);
    expect(() => loadConfig({ GRAFT_RATE_LIMITS: 'maybe' })).toThrow(/on or off/);
  });
});

describe('GRAFT_TRUST_PROXY', () => {
  it('trusts no proxy by default; true, a hop count or addresses when set', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ GRAFT_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ GRAFT_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ GRAFT_TRUST_PROXY: '10.0.0.0/8, ::1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '::1',
    ]);
    expect(() => loadConfig({ GRAFT_TRUST_PROXY: 'lb.internal' })).toThrow(ConfigError);
  });
});

describe('GRAFT_STORAGE_URL', () => {
  const storage = (env: Record<string, string>) => loadConfig(env).storage;

  it('is <GRAFT_DATA_DIR>/artifacts by default, or a folder: a path or a file:// URL', () => {
    expect(storage({ GRAFT_DATA_DIR: '/srv/graft' })).toEqual({
      kind: 'file',
      root: '/srv/graft/artifacts',
    });
    expect(storage({ GRAFT_STORAGE_URL: '/mnt/artifacts/' })).toEqual({
      kind: 'file',
      root: '/mnt/artifacts',
    });
    expect(storage({ GRAFT_STORAGE_URL: 'store' })).toEqual({
      kind: 'file',
      root: resolve('store'),
    });
    expect(storage({ GRAFT_STORAGE_URL: 'file:///mnt/my%20artifacts' })).toEqual({
      kind: 'file',
      root: '/mnt/my artifacts',
    });
  });

  it('is a bucket and key prefix with s3://, the endpoint and region from the AWS variables', () => {
    expect(storage({ GRAFT_STORAGE_URL: 's3://graft-artifacts' })).toEqual({
      kind: 's3',
      bucket: 'graft-artifacts',
      prefix: '',
      forcePathStyle: false,
    });
    expect(
      storage({
        GRAFT_STORAGE_URL: 's3://graft.artifacts/prod//eu-1/',
        GRAFT_S3_FORCE_PATH_STYLE: 'true',
        AWS_ENDPOINT_URL: 'http://minio:9000',
        AWS_REGION: 'eu-west-1',
      }),
    ).toEqual({
      kind: 's3',
      bucket: 'graft.artifacts',
      prefix: 'prod/eu-1',
      forcePathStyle: true,
      endpoint: 'http://minio:9000',
      region: 'eu-west-1',
    });
    // The S3-only variable wins over the one for every service, as in the SDK.
    expect(
      storage({
        GRAFT_STORAGE_URL: 's3://b12',
        AWS_ENDPOINT_URL: 'http://everything:9000',
        AWS_ENDPOINT_URL_S3: 'https://s3.internal',
      }),
    ).toMatchObject({ endpoint: 'https://s3.internal' });
    // AWS variables do not matter to a folder.
    expect(storage({ GRAFT_STORAGE_URL: '/a', AWS_ENDPOINT_URL_S3: 'nonsense' })).toEqual({
      kind: 'file',
      root: '/a',
    });
  });

  it('refuses what names no folder or bucket', () => {
    for (const raw of [
      's3://',
      's3:///prefix',
      's3://Graft_Artifacts',
      's3://ab',
      's3://bucket?region=eu',
      's3://key:secret@bucket',
      's3://bucket:9000/x',
      's3://bucket/a/%zz',
      'http://minio:9000/bucket',
      'file://otherhost/srv/artifacts',
    ]) {
      expect(() => storage({ GRAFT_STORAGE_URL: raw }), raw).toThrow(ConfigError);
    }
    expect(() => storage({ GRAFT_STORAGE_URL: 'gs://bucket' })).toThrow(/unknown scheme gs:/);
    expect(() =>
      storage({ GRAFT_STORAGE_URL: 's3://bucket', GRAFT_S3_FORCE_PATH_STYLE: 'yes' }),
    ).toThrow(/true or false/);
    expect(() =>
      storage({ GRAFT_STORAGE_URL: 's3://bucket', AWS_ENDPOINT_URL_S3: 'minio:9000' }),
    ).toThrow(/AWS_ENDPOINT_URL_S3/);
  });
});
