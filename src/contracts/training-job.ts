import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * What travels through the training queue: ids and a version, never data. The database row
 * holds the spec and state; the processor re-validates this payload before anything else.
 * `tenantId` and `requestId` (the API request that queued the job) only label the worker's log
 * lines; both are optional, so payloads queued before them, or by the reaper, which knows no
 * request, are still valid under the same version. (A worker older than them refuses payloads
 * that carry them: deploy workers before API replicas.)
 */
export const TRAINING_JOB_PAYLOAD_VERSION = 1;

export const TrainingJobPayload = Type.Object(
  {
    version: Type.Literal(TRAINING_JOB_PAYLOAD_VERSION),
    jobId: Type.String({ minLength: 36, maxLength: 36 }),
    tenantId: Type.Optional(Type.String({ minLength: 36, maxLength: 36 })),
    requestId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  },
  { additionalProperties: false },
);
export type TrainingJobPayload = Static<typeof TrainingJobPayload>;

export function isTrainingJobPayload(value: unknown): value is TrainingJobPayload {
  return Value.Check(TrainingJobPayload, value);
}
