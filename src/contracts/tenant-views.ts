import { Type, type Static } from '@sinclair/typebox';
import { Nullable, ref } from './schema-ref.js';
import { RATE_CLASSES, type RateClass } from '../config/config.js';
import { QUOTA_NAMES, type QuotaName } from './quotas.js';

/* What the API shows a tenant of its API keys and of its quotas. */

export const ApiKey = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    prefix: Type.String({ description: 'The 12 characters after `graft_`: how to recognise it' }),
    name: Nullable(Type.String()),
    createdAt: Type.String({ format: 'date-time' }),
    lastUsedAt: Nullable(
      Type.String({ format: 'date-time', description: 'Updated at most once a minute' }),
    ),
    revokedAt: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'ApiKey', description: 'An API key of your tenant (never the key itself)' },
);

export const NewApiKey = Type.Object(
  {
    ...ApiKey.properties,
    key: Type.String({ description: 'The key itself: shown in this response only, keep it' }),
  },
  { $id: 'NewApiKey', description: 'A new API key, shown once' },
);

export const QuotaUse = Type.Object(
  {
    limit: Type.Integer({ description: 'Your own limit if you have one, else the default' }),
    used: Nullable(
      Type.Integer({
        description: 'Current use; null for limits on one dataset or one job',
      }),
    ),
    own: Type.Boolean({ description: 'True when the limit is set for your tenant' }),
  },
  { $id: 'QuotaUse', description: 'One quota: its limit and your use' },
);

const QUOTA_MEANING: Record<QuotaName, string> = {
  datasets: 'datasets held',
  storedBytes: 'bytes of stored dataset images',
  imagesPerDataset: 'images in one dataset',
  concurrentJobs: 'jobs running at once',
  queuedJobs: 'jobs waiting to run',
  epochsPerPhase: 'epochs of one training phase in a job spec',
  wallSeconds: 'seconds one job may run before it is stopped',
  models: 'trained models held, counting those queued and running jobs will make',
};

export const RateLimitUse = Type.Object(
  {
    max: Type.Integer({ description: 'Requests allowed per window, for all your keys together' }),
    windowSeconds: Type.Number({ description: 'The length of the fixed window' }),
    own: Type.Boolean({ description: 'True when the limit is set for your tenant' }),
  },
  {
    $id: 'RateLimitUse',
    description: 'One rate limit: requests per window, shared by your API keys',
  },
);

const RATE_MEANING: Record<RateClass, string> = {
  default: 'every request not named below',
  uploads: '`POST /v1/datasets`',
  jobs: '`POST /v1/jobs`',
  predict: '`POST /v1/models/{id}/predict`',
  thumbnails: '`GET /v1/datasets/{id}/images/{imageId}/thumbnail`',
};

export const Usage = Type.Object(
  {
    tenant: Type.String(),
    quotas: Type.Object(
      Object.fromEntries(QUOTA_NAMES.map((name) => [name, ref(QuotaUse)])) as Record<
        QuotaName,
        ReturnType<typeof ref<typeof QuotaUse>>
      >,
    ),
    rateLimits: Nullable(
      Type.Object(
        Object.fromEntries(RATE_CLASSES.map((name) => [name, ref(RateLimitUse)])) as Record<
          RateClass,
          ReturnType<typeof ref<typeof RateLimitUse>>
        >,
      ),
      {
        description: `Your rate limits (one budget for all your API keys): ${RATE_CLASSES.map((name) => `\`${name}\` ${RATE_MEANING[name]}`).join('; ')}. Null when this server has rate limits off`,
      },
    ),
  },
  {
    $id: 'Usage',
    description: `Your tenant's use and limits, one entry per quota: ${QUOTA_NAMES.map((name) => `\`${name}\` ${QUOTA_MEANING[name]}`).join('; ')}`,
  },
);

export type ApiKeyView = Static<typeof ApiKey>;
export type NewApiKeyView = Static<typeof NewApiKey>;
export type UsageView = Static<typeof Usage>;

/** Named schemas of these views, for the API document's components. */
export const TENANT_VIEW_SCHEMAS = [ApiKey, NewApiKey, QuotaUse, RateLimitUse, Usage];
