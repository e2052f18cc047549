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
