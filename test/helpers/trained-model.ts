import { file, formBody, type GraftClient } from '../client/graft-client.js';
import { colourDataset } from './dataset-zips.js';

/**
 * The quickest real training through the API: a 12-image blue/red dataset, the head alone on
 * the bundled base (the raw-pixel baseline may not ship: these tests need the base in the
 * model). Polls until the job ends; throws if it does not succeed.
 */
export async function trainColourModel(
  api: GraftClient,
): Promise<{ jobId: string; modelId: string }> {
  const dataset = await api.POST(
    '/v1/datasets',
    formBody('/v1/datasets', { file: file(await colourDataset(6), 'colours.zip') }),
  );
  const job = await api.POST('/v1/jobs', {
    body: {
      datasetId: dataset.data!.id,
      fineTuning: { enabled: false },
      baseline: { allowShip: false },
    },
  });
  const jobId = job.data!.id;
  for (let i = 0; i < 480; i++) {
    const state = (await api.GET('/v1/jobs/{id}', { params: { path: { id: jobId } } })).data!;
    if (state.status === 'succeeded') return { jobId, modelId: state.modelId! };
    if (state.status !== 'queued' && state.status !== 'running')
      throw new Error(`training ${state.status}: ${state.error ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`training job ${jobId} did not end within 2 minutes`);
}
