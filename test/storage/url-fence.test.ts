import { describe, expect, it } from 'vitest';
import {
  checkUrl,
  hostAllowed,
  isPublicAddress,
  tenantUrlRefusal,
  type UrlPolicy,
} from '../../src/storage/url-fence.js';

describe('isPublicAddress', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'RFC 1918'],
    ['172.16.0.1', 'RFC 1918'],
    ['192.168.1.1', 'RFC 1918'],
    ['100.64.0.1', 'CGNAT'],
    ['169.254.169.254', 'link-local: the cloud metadata service'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['240.0.0.1', 'reserved'],
    ['::1', 'IPv6 loopback'],
    ['::', 'IPv6 unspecified'],
    ['fe80::1', 'IPv6 link-local'],
    ['fe80::1%eth0', 'IPv6 link-local with a zone'],
    ['fc00::1', 'unique local'],
    ['fd12:3456::1', 'unique local'],
    ['ff02::1', 'IPv6 multicast'],
    ['::ffff:127.0.0.1', 'IPv4-mapped loopback'],
    ['::ffff:7f00:1', 'IPv4-mapped loopback, hex'],
    ['::ffff:10.0.0.1', 'IPv4-mapped private'],
    ['::ffff:169.254.169.254', 'IPv4-mapped metadata'],
    ['::7f00:1', 'IPv4-compatible (deprecated) loopback'],
    ['64:ff9b::a00:1', 'NAT64 of 10.0.0.1'],
    ['2002:7f00:1::1', '6to4 of 127.0.0.1'],
    ['2001:db8::1', 'IPv6 documentation'],
    ['localhost', 'not an address at all'],
  ])('refuses %s (%s)', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '151.101.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

describe('hostAllowed', () => {
  const list = ['models.example.com', '*.cdn.example.org'];
  it.each([
    ['models.example.com', true],
    ['MODELS.example.com.', true],
    ['a.cdn.example.org', true],
    ['a.b.cdn.example.org', true],
    ['cdn.example.org', false],
    ['evilcdn.example.org', false],
    ['models.example.com.evil.net', false],
    ['example.com', false],
  ])('%s → %s', (host, allowed) => {
    expect(hostAllowed(host, list)).toBe(allowed);
  });
});

describe('checkUrl', () => {
  const tenant: UrlPolicy = {
    trust: 'tenant',
    allowHosts: ['models.example.com', '127.0.0.1', '[::1]', '[::ffff:7f00:1]', 'localhost'],
  };
  const refusal = (url: string, policy = tenant) => {
    try {
      checkUrl(new URL(url), policy);
      return undefined;
    } catch (error) {
      return (error as { reason?: string }).reason;
    }
  };

  it.each([
    ['https://localhost/hook', 'address'],
    ['https://api.localhost/hook', 'address'],
    ['https://metadata.google.internal/computeMetadata/v1/', 'address'],
    ['https://printer.local/hook', 'address'],
    ['https://router.home.arpa/hook', 'address'],
    ['https://hooks.example.com:22/hook', 'port'],
    ['https://hooks.example.com:6379/hook', undefined],
    ['https://hooks.example.com:443/hook', undefined],
  ])('with any host allowed (webhooks), %s is refused: %s', (url, reason) => {
    expect(refusal(url, { trust: 'tenant', allowHosts: ['*'] })).toBe(reason);
  });

  it('lets a host the operator named have any port and a local name', () => {
    expect(refusal('https://localhost:22/m/model.json')).toBeUndefined();
  });

  it('lets an https URL on an allowed host through (its addresses are checked on connect)', () => {
    expect(refusal('https://models.example.com/m/model.json')).toBeUndefined();
    expect(refusal('https://localhost:8443/m/model.json')).toBeUndefined();
  });

  it.each([
    ['http://models.example.com/model.json', 'scheme'],
    ['file:///etc/passwd', 'scheme'],
    ['ftp://models.example.com/model.json', 'scheme'],
    ['https://user:secret@models.example.com/model.json', 'credentials'],
    ['https://other.example.com/model.json', 'host'],
    ['https://127.0.0.1/model.json', 'address'],
    ['https://127.1/model.json', 'address'],
    ['https://2130706433/model.json', 'address'],
    ['https://0x7f000001/model.json', 'address'],
    ['https://0177.0.0.1/model.json', 'address'],
    ['https://[::1]/model.json', 'address'],
    ['https://[::ffff:127.0.0.1]/model.json', 'address'],
  ])('refuses %s (%s) without DNS', (url, reason) => {
    expect(refusal(url)).toBe(reason);
  });

  it('loopback only for a host the test-only option names, and only by that name', () => {
    const test: UrlPolicy = { ...tenant, allowLoopbackFor: ['localhost'] };
    expect(refusal('https://127.0.0.1/model.json', test)).toBe('address');
    expect(refusal('https://localhost/model.json', test)).toBeUndefined();
  });

  it('an operator (the CLI) may name any http(s) URL', () => {
    const operator: UrlPolicy = { trust: 'operator', allowHosts: [] };
    expect(refusal('http://127.0.0.1:9/model.json', operator)).toBeUndefined();
    expect(refusal('file:///etc/passwd', operator)).toBe('scheme');
  });

  it('tenantUrlRefusal answers the API without throwing', () => {
    expect(tenantUrlRefusal('not a url', ['a.example'])).toBe('invalid');
    expect(tenantUrlRefusal('https://a.example/model.json', ['a.example'])).toBeUndefined();
    expect(tenantUrlRefusal('https://10.0.0.1/model.json', ['10.0.0.1'])).toBe('address');
  });
});
