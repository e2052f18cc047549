import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db } from './prisma-client.js';

export interface Principal {
  tenantId: string;
  tenantName: string;
  keyId: string;
}

const hash = (key: string) => createHash('sha256').update(key).digest('hex');

/** Keys look like `graft_<12-char prefix>_<secret>`; only the prefix and a SHA-256 are stored. */
export function parseKey(key: string): { prefix: string } | undefined {
  const match = /^graft_([a-z0-9]{12})_[A-Za-z0-9_-]{32,}$/.exec(key);
  return match ? { prefix: match[1]! } : undefined;
}

export class ApiKeysRepository {
  constructor(private readonly db: Db) {}

  /** Creates the tenant if needed and a new key for it; the key is shown once, here. */
  async create(tenantName: string): Promise<{ key: string; tenantId: string }> {
    const tenant = await this.db.tenant.upsert({
      where: { name: tenantName },
      create: { name: tenantName },
      update: {},
    });
    const prefix = randomBytes(9)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '0')
      .slice(0, 12);
    const key = `graft_${prefix}_${randomBytes(24).toString('base64url')}`;
    await this.db.apiKey.create({ data: { tenantId: tenant.id, prefix, hash: hash(key) } });
    return { key, tenantId: tenant.id };
  }

  async authenticate(key: string): Promise<Principal | undefined> {
    const parsed = parseKey(key);
    if (!parsed) return undefined;
    const row = await this.db.apiKey.findUnique({
      where: { prefix: parsed.prefix },
      include: { tenant: true },
    });
    if (!row || row.revokedAt) return undefined;
    const expected = Buffer.from(row.hash, 'hex');
    if (!timingSafeEqual(expected, Buffer.from(hash(key), 'hex'))) return undefined;
    return { tenantId: row.tenantId, tenantName: row.tenant.name, keyId: row.id };
  }

  count(): Promise<number> {
    return this.db.apiKey.count({ where: { revokedAt: null } });
  }
}
