import { Type } from '@sinclair/typebox';
import { pageOf, type Named } from '../contracts/schema-ref.js';
import { ApiKey, TENANT_VIEW_SCHEMAS } from '../contracts/tenant-views.js';

/* Request shapes and pages of the tenant's own routes: /v1/keys and /v1/usage. */

export const CreateKeyBody = Type.Object(
  {
    name: Type.Optional(
      Type.String({
        maxLength: 200,
        description: 'What the key is for; no control or bidirectional-text characters',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ApiKeyPage = pageOf(
  ApiKey,
  'ApiKeyPage',
  'A page of keys, newest first, revoked ones included',
);

/** Named schemas for NAMED_SCHEMAS (api/schemas.ts), so the document lists them. */
export const TENANT_SCHEMAS = [...TENANT_VIEW_SCHEMAS, ApiKeyPage] as Named[];
