import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';

/*
 * Which URLs the server may fetch for a base model, and at which addresses. A tenant's URL
 * (an API job) must be https, name a host on the operator's allow-list, and resolve only to
 * public unicast addresses; the check runs again on every redirect and inside the socket's own
 * DNS lookup, so a name cannot resolve to one address when checked and another when connected.
 * An operator's URL (the CLI) may be anything http(s).
 */

export type Resolver = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** For tests only: never read from the environment, so no deployment can set them by accident. */
export interface FenceTestOptions {
  /** Hosts (as written in the URL) that may resolve to a loopback address: a local test server. */
  allowLoopbackFor?: readonly string[];
  /** Certificates to trust besides the system's (a test server's self-signed one). */
  ca?: string | readonly string[];
  /** Replaces DNS, so a test can make a name resolve to a private address without a resolver. */
  resolve?: Resolver;
}

export interface UrlPolicy extends FenceTestOptions {
  /** 'tenant': the fence applies. 'operator': any http(s) URL, any address (the CLI). */
  trust: 'tenant' | 'operator';
  /** Host allow-list (GRAFT_ALLOW_BASE_URLS): exact hosts or `*.example.com`. */
  allowHosts: readonly string[];
}

export type RefusalReason = 'scheme' | 'credentials' | 'host' | 'address' | 'port';

/** A URL or an address the policy does not allow; refused before any connection is made. */
export class UrlRefused extends Error {
  override name = 'UrlRefused';
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/** Lower case, without a trailing dot: how hosts are compared. */
export const normalizeHost = (host: string): string => host.toLowerCase().replace(/\.$/, '');

/**
 * Whether a host matches an allow-list entry: the same host, a subdomain for `*.domain`, or any
 * host for `*` (webhooks by default; the addresses are still fenced).
 */
export function hostAllowed(host: string, allowHosts: readonly string[]): boolean {
  const name = normalizeHost(host);
  return allowHosts.some((entry) => {
    const pattern = normalizeHost(entry);
    if (pattern === '*') return true;
    return pattern.startsWith('*.')
      ? name.endsWith(pattern.slice(1)) && name.length > pattern.length - 1
      : name === pattern;
  });
}

const GLOBAL_UNICAST_V6 = ipaddr.parseCIDR('2000::/3');

/**
 * A public unicast address: not loopback, private (RFC 1918, CGNAT, ULA), link-local (the cloud
 * metadata service), unspecified, multicast, reserved or documentation, also when written as an
 * IPv4-mapped IPv6 address; for IPv6, only the global unicast block 2000::/3.
 */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const ip = ipaddr.process(address);
  if (ip.range() !== 'unicast') return false;
  return ip.kind() === 'ipv4' || ip.match(GLOBAL_UNICAST_V6);
}

const isLoopback = (address: string): boolean =>
  ipaddr.isValid(address) && ipaddr.process(address).range() === 'loopback';

/** Whether the fence lets a connection to `address` for a URL naming `host`. */
export function addressAllowed(address: string, host: string, policy: UrlPolicy): boolean {
  if (policy.trust === 'operator' || isPublicAddress(address)) return true;
  const loopbackHosts = policy.allowLoopbackFor ?? [];
  return isLoopback(address) && loopbackHosts.some((entry) => hostAllowed(host, [entry]));
}

/** The bare address of an IP-literal host (`[::1]` → `::1`), or undefined for a name. */
function literalAddress(hostname: string): string | undefined {
  const bare = hostname.replace(/^\[(.*)\]$/, '$1');
  return isIP(bare) ? bare : undefined;
}

/**
 * Names local by definition, whatever a resolver says of them: `localhost` (RFC 6761), mDNS's
 * `.local`, `.internal` (reserved for private use, cloud metadata among them), `.home.arpa`.
 */
const LOCAL_NAME = /(^|\.)(localhost|localdomain|local|internal|home\.arpa)$/;

/** Ports a tenant's URL may name: 443, or an unprivileged one (not SSH, SMTP, a database's…). */
const portAllowed = (port: string) => port === '' || port === '443' || Number(port) >= 1024;

/**
 * Checks what can be checked without DNS: scheme, credentials, allow-list, port, a literal
 * address or a name that is local by definition.
 */
export function checkUrl(url: URL, policy: UrlPolicy): void {
  const schemes = policy.trust === 'operator' ? ['https:', 'http:'] : ['https:'];
  if (!schemes.includes(url.protocol)) {
    throw new UrlRefused('scheme', `${url.protocol} is not allowed`);
  }
  if (policy.trust === 'operator') return;
  if (url.username || url.password) {
    throw new UrlRefused('credentials', 'the URL carries credentials');
  }
  if (!hostAllowed(url.hostname, policy.allowHosts)) {
    throw new UrlRefused('host', `${url.hostname} is not on the allow-list`);
  }
  // A host the operator listed by name is theirs to vouch for, port and name; its addresses are
  // still fenced. One matched by a wildcard (webhooks: `*`) is anyone's.
  const named = policy.allowHosts.some(
    (entry) => !entry.startsWith('*') && normalizeHost(entry) === normalizeHost(url.hostname),
  );
  if (!named && !portAllowed(url.port)) {
    throw new UrlRefused('port', `port ${url.port} is not allowed (443, or 1024 and above)`);
  }
  const literal = literalAddress(url.hostname);
  if (literal !== undefined && !addressAllowed(literal, url.hostname, policy)) {
    throw new UrlRefused('address', `${literal} is not a public address`);
  }
  const loopbackHosts = policy.allowLoopbackFor ?? [];
  if (
    !named &&
    literal === undefined &&
    LOCAL_NAME.test(normalizeHost(url.hostname)) &&
    !loopbackHosts.some((entry) => hostAllowed(url.hostname, [entry]))
  ) {
    throw new UrlRefused('address', `${url.hostname} is a local name, not a public host`);
  }
}

/**
 * `checkUrl`, then the name's addresses now: every one must be allowed (an early, clear answer;
 * each connection checks again, as the name may resolve elsewhere later).
 */
export async function checkUrlNow(url: URL, policy: UrlPolicy): Promise<void> {
  checkUrl(url, policy);
  if (policy.trust === 'operator' || literalAddress(url.hostname) !== undefined) return;
  let found: { address: string }[];
  try {
    found = await (policy.resolve ?? systemResolver)(url.hostname);
  } catch {
    throw new UrlRefused('host', `${url.hostname} does not resolve`);
  }
  const refused = found.find((entry) => !addressAllowed(entry.address, url.hostname, policy));
  if (refused) {
    throw new UrlRefused(
      'address',
      `${url.hostname} resolves to ${refused.address}, not a public address`,
    );
  }
  if (found.length === 0) throw new UrlRefused('host', `${url.hostname} has no address`);
}

/**
 * What a tenant's base-model URL breaks, checked without DNS (the API's early answer), or
 * undefined when it may be tried; the download checks again, addresses included.
 */
export function tenantUrlRefusal(
  reference: string,
  allowHosts: readonly string[],
): RefusalReason | 'invalid' | undefined {
  let url: URL;
  try {
    url = new URL(reference);
  } catch {
    return 'invalid';
  }
  try {
    checkUrl(url, { trust: 'tenant', allowHosts });
    return undefined;
  } catch (error) {
    if (error instanceof UrlRefused) return error.reason;
    throw error;
  }
}

const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true });

/**
 * A `lookup` for node:http(s) that resolves the name and refuses unless every address it got is
 * allowed: the socket then connects to one of exactly these addresses.
 */
export function fencedLookup(policy: UrlPolicy): LookupFunction {
  const resolve = policy.resolve ?? systemResolver;
  return (hostname, options, callback) => {
    const wanted = (family: number) => !options.family || options.family === family;
    resolve(hostname).then(
      (found) => {
        const addresses = found.filter((entry) => wanted(entry.family));
        const refused = addresses.find((entry) => !addressAllowed(entry.address, hostname, policy));
        if (refused) {
          callback(new UrlRefused('address', `${hostname} resolves to ${refused.address}`), '', 0);
        } else if (addresses.length === 0) {
          callback(
            Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }),
            '',
            0,
          );
        } else if (options.all) {
          callback(null, addresses);
        } else {
          callback(null, addresses[0]!.address, addresses[0]!.family);
        }
      },
      (error: NodeJS.ErrnoException) => callback(error, '', 0),
    );
  };
}
