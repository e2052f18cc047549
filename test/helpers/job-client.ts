import { expect } from 'vitest';
import type { GraftClient } from '../client/graft-client.js';
import type { components, paths } from '../client/openapi-types.js';

export type Job = components['schemas']['Job'];
export type JobRequest = Omit<
  paths['/v1/jobs']['post']['requestBody']['content']['application/json'],
  'datasetId'
>;

/** Submitting jobs on one dataset through the typed client, and waiting on them. */
export function jobClient(api: () => GraftClient, datasetId: () => string) {
  const job = async (id: string): Promise<Job> =>
    (await api().GET('/v1/jobs/{id}', { params: { path: { id } } })).data!;
  return {
    submit: async (spec: JobRequest): Promise<Job> => {
      const { data, response } = await api().POST('/v1/jobs', {
        body: { datasetId: datasetId(), ...spec },
      });
      expect(response.status).toBe(202);
      return data!;
    },
    job,
    /** Polls until `done` holds; throws after `timeoutMs`, saying where the job was. */
    waitFor: async (id: string, done: (j: Job) => boolean, timeoutMs = 120_000): Promise<Job> => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = await job(id);
        if (done(current)) return current;
        if (Date.now() > deadline)
          throw new Error(
            `job ${id} still ${current.status} (${current.phase}) after ${timeoutMs} ms`,
          );
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
  };
}
