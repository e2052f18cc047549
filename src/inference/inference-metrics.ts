import {
  inferenceBatchDuration,
  inferenceBatchImages,
  inferenceRequestDuration,
  modelCacheEvictions,
  modelCacheHits,
  modelCacheMisses,
} from '../observability/metrics.js';
import type { FromInference } from './inference-protocol.js';

/** What the inference thread reports for the metrics (it has no registry of its own). */
export type ThreadReport = Extract<FromInference, { type: 'batch' | 'evicted' }>;

export function observeThread(report: ThreadReport): void {
  if (report.type === 'evicted') {
    modelCacheEvictions.inc({ reason: report.reason });
    return;
  }
  inferenceBatchImages.observe({ engine: report.engine }, report.images);
  inferenceBatchDuration.observe({ engine: report.engine }, report.seconds);
  (report.cacheHit ? modelCacheHits : modelCacheMisses).inc();
}

/** Times one request to the thread, queueing included, by outcome. */
export async function timedRequest<T>(request: () => Promise<T>): Promise<T> {
  const end = inferenceRequestDuration.startTimer();
  try {
    const result = await request();
    end({ outcome: 'ok' });
    return result;
  } catch (error) {
    end({ outcome: 'error' });
    throw error;
  }
}
