/**
 * The artifact stores the benches compare: a folder (LocalArtifactStore in a temp dir) or an
 * S3 bucket on an s3rver the bench starts on loopback (test/helpers/s3-server.ts), each opened
 * the way the worker opens its store (`artifactStoreFor(config.storage)`, instrumented).
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/config.js';
import { storageOperationDuration } from '../src/observability/metrics.js';
import { artifactStoreFor, type ArtifactStore } from '../src/storage/artifact-store.js';
import { instrumentStore } from '../src/storage/instrumented-store.js';
import { startS3Server } from '../test/helpers/s3-server.js';

export const STORE_KINDS = ['local', 's3'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export interface BenchStore {
  kind: StoreKind;
  store: ArtifactStore;
  /** Where it keeps its objects: a folder, or `s3://bucket/prefix at <endpoint>`. */
  location: string;
  /** What points a Graft process at this store (GRAFT_STORAGE_URL and the AWS variables). */
  env: Record<string, string>;
  /**
   * CPU seconds the store's server has used so far (s3rver, on this machine's cores; a real S3
   * is elsewhere); 0 for a folder.
   */
  serverCpuSeconds(): number;
  close(): Promise<void>;
}

/** Linux: user + system seconds of this process's children running `script` (/proc). */
function childCpuSeconds(script: string): number {
  let seconds = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // After "pid (comm) ": state, ppid, … utime (14th field), stime (15th), in 1/100 s.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid) continue;
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(script)) continue;
      seconds += (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      // gone meanwhile, or not Linux
    }
  }
  return seconds;
}

/** Keys below `prefix` in the bucket; the bench's own s3rver holds nothing else. */
export async function openBenchStore(kind: StoreKind, prefix = 'bench'): Promise<BenchStore> {
  if (kind === 'local') {
    const root = mkdtempSync(join(tmpdir(), 'graft-bench-store-'));
    const env = { GRAFT_STORAGE_URL: root };
    return {
      kind,
      store: instrumentStore(artifactStoreFor(loadConfig({ ...process.env, ...env }).storage)),
      location: root,
      env,
      serverCpuSeconds: () => 0,
      close: () => rm(root, { recursive: true, force: true }),
    };
  }
  const server = await startS3Server('graft-bench');
  const env = server.env(prefix);
  // The SDK's credential chain reads these from this process's environment, as a worker's does.
  for (const name of ['AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'] as const)
    process.env[name] = env[name];
  return {
    kind,
    store: instrumentStore(artifactStoreFor(loadConfig({ ...process.env, ...env }).storage)),
    location: `${env.GRAFT_STORAGE_URL} at ${server.endpoint} (s3rver)`,
    env,
    serverCpuSeconds: () => childCpuSeconds('s3rver-process.cjs'),
    close: () => server.close(),
  };
}

/** Copies files into the store, `concurrency` at a time; how many, how big, how long. */
export async function putFiles(
  store: ArtifactStore,
  files: readonly { key: string; path: string }[],
  concurrency = 8,
): Promise<{ files: number; bytes: number; seconds: number }> {
  const started = performance.now();
  let next = 0;
  let bytes = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < files.length) {
        const { key, path } = files[next++]!;
        const data = await readFile(path);
        bytes += data.length;
        await store.put(key, data);
      }
    }),
  );
  return { files: files.length, bytes, seconds: (performance.now() - started) / 1000 };
}

export type StoreOperations = Record<string, { count: number; seconds: number }>;

/** Store operations so far in this process (from the store's metrics), by operation. */
export async function storeOperations(): Promise<StoreOperations> {
  const totals: StoreOperations = {};
  for (const { metricName, labels, value } of (await storageOperationDuration.get()).values) {
    const operation = String(labels.operation);
    const entry = (totals[operation] ??= { count: 0, seconds: 0 });
    if (metricName?.endsWith('_count')) entry.count += value;
    else if (metricName?.endsWith('_sum')) entry.seconds += value;
  }
  return totals;
}

/** The operations between two snapshots (`storeOperations`). */
export function operationsSince(before: StoreOperations, after: StoreOperations): StoreOperations {
  const delta: StoreOperations = {};
  for (const [operation, { count, seconds }] of Object.entries(after)) {
    const earlier = before[operation] ?? { count: 0, seconds: 0 };
    if (count > earlier.count)
      delta[operation] = { count: count - earlier.count, seconds: seconds - earlier.seconds };
  }
  return delta;
}

/** The order of `rounds` pairs of runs, ABBA: local, s3, s3, local, local, s3, … */
export function interleaved(rounds: number): StoreKind[] {
  return Array.from({ length: rounds }, (_, i) =>
    i % 2 === 0 ? (['local', 's3'] as const) : (['s3', 'local'] as const),
  ).flat();
}

export const mean = (values: readonly number[]) =>
  values.reduce((sum, value) => sum + value, 0) / values.length;

export const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
