import type { ApiKeyView, NewApiKeyView } from '../contracts/tenant-views.js';
import { checkName } from '../contracts/names.js';
import type { ApiKeysRepository } from '../db/api-keys.repository.js';
import { DomainError, notFound } from './domain-error.js';

type KeyRow = Awaited<ReturnType<ApiKeysRepository['list']>>[0][number];

const iso = (date: Date | null) => date?.toISOString() ?? null;

export function apiKeyView(row: KeyRow): ApiKeyView {
  return {
    id: row.id,
    prefix: row.prefix,
    name: row.name,
    createdAt: row.createdAt.toISOString(),
    lastUsedAt: iso(row.lastUsedAt),
    revokedAt: iso(row.revokedAt),
  };
}

/** A tenant's own API keys: create (shown once), list, revoke. */
export class KeysService {
  constructor(private readonly keys: ApiKeysRepository) {}

  async create(tenantId: string, name?: string): Promise<NewApiKeyView> {
    let checked: string | undefined;
    if (name !== undefined && name.trim() !== '') {
      const check = checkName(name.trim());
      if (!check.ok) throw new DomainError(400, 'invalid_name', `the key's name ${check.reason}`);
      checked = check.name;
    }
    const row = await this.keys.createForTenant(tenantId, checked);
    return { ...apiKeyView(row), key: row.key };
  }

  async list(tenantId: string, page: { limit: number; offset: number }) {
    const [rows, total] = await this.keys.list(tenantId, page);
    return { items: rows.map(apiKeyView), total, ...page };
  }

  /** Another tenant's key is as unknown as one that never existed. */
  async revoke(tenantId: string, id: string): Promise<void> {
    if (!(await this.keys.revoke(tenantId, id))) throw notFound('API key', id);
  }
}
