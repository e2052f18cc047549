import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/**
 * What travels through the training queue: ids and a version, never data. The database row
 * holds the spec and state; the processor re-validates this payload before anything else.
 */
export const TRAINING_JOB_PAYLOAD_VERSION = 1;

export const TrainingJobPayload = Type.Object(
  {
    version: Type.Literal(TRAINING_JOB_PAYLOAD_VERSION),
    jobId: Type.String({ minLength: 36, maxLength: 36 }),
  },
  { additionalProperties: false },
);
export type TrainingJobPayload = Static<typeof TrainingJobPayload>;

export function isTrainingJobPayload(value: unknown): value is TrainingJobPayload {
  return Value.Check(TrainingJobPayload, value);
}
