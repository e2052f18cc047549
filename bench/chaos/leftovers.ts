/**
 * What a scenario leaves behind once it has settled: jobs still queued or running, processes
 * of ours that no live API or worker owns, temp files, checkpoints and half-written artifacts.
 * Files are compared with a snapshot taken before the scenario, so each scenario reports its own.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Cluster } from './cluster.js';
import { signalPid, sleep } from './procs.js';

export interface StuckJob {
  id: string;
  status: string;
  phase: string | null;
  progress: number;
  /** Seconds since the row was last written (a live run writes about once a second). */
  idleSeconds: number;
}

export interface Orphan {
  pid: number;
  ppid: number;
  state: string;
  args: string;
}

export interface Leftovers {
  /** Jobs still queued or running after waiting for every job to end. */
  stuckJobs: StuckJob[];
  /** Worker heartbeats in Redis at that moment (null: Redis did not answer). */
  liveWorkers: number | null;
  /** Ended by the bench (by pid) after being reported. */
  orphanProcesses: Orphan[];
  /** New files in the data dir's tmp/ and in the processes' TMPDIR. */
  tmpFiles: string[];
  /** New entries under artifacts/checkpoints. */
  checkpoints: string[];
  /** New `*.partial` files in the artifact store (a write that never finished). */
  partialFiles: string[];
  /** New folders under artifacts/models that no Model row names. */
  orphanModelDirs: string[];
}

export interface FileSnapshot {
  tmp: Set<string>;
  checkpoints: Set<string>;
  partials: Set<string>;
  models: Set<string>;
}

/** Files below `dir`, as paths relative to it ([] when it is missing). */
export function listFiles(dir: string, root = dir): string[] {
  if (!existsSync(dir)) return [];
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...listFiles(path, root));
    else found.push(relative(root, path));
  }
  return found;
}

const entries = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);

export function snapshotFiles(cluster: Cluster): FileSnapshot {
  const artifacts = join(cluster.dataDir, 'artifacts');
  return {
    tmp: new Set([
      ...listFiles(join(cluster.dataDir, 'tmp')).map((f) => `data/tmp/${f}`),
      ...listFiles(cluster.procTmp).map((f) => `TMPDIR/${f}`),
    ]),
    checkpoints: new Set(entries(join(artifacts, 'checkpoints')).map((e) => `checkpoints/${e}`)),
    partials: new Set(listFiles(artifacts).filter((f) => f.endsWith('.partial'))),
    models: new Set(
      entries(join(artifacts, 'models')).filter((e) =>
        statSync(join(artifacts, 'models', e)).isDirectory(),
      ),
    ),
  };
}

const added = (before: Set<string>, after: Set<string>) => [...after].filter((x) => !before.has(x));

/** Waits up to `settleMs` for every job to end, then collects what is left. */
export async function collectLeftovers(
  cluster: Cluster,
  before: FileSnapshot,
  settleMs: number,
): Promise<Leftovers> {
  const deadline = Date.now() + settleMs;
  let stuck: StuckJob[] = [];
  for (;;) {
    try {
      const rows = await cluster.query<{
        id: string;
        status: string;
        phase: string | null;
        progress: number;
        idle: number;
      }>(
        `SELECT id, status::text AS status, phase, progress,
                EXTRACT(EPOCH FROM now() - "updatedAt")::float8 AS idle
           FROM "TrainingJob" WHERE status IN ('queued', 'running') ORDER BY "createdAt"`,
      );
      stuck = rows.map((r) => ({
        id: r.id,
        status: r.status,
        phase: r.phase,
        progress: Math.round(r.progress * 1000) / 1000,
        idleSeconds: Math.round(r.idle),
      }));
    } catch {
      // PostgreSQL not back yet: keep waiting
    }
    if (stuck.length === 0 || Date.now() >= deadline) break;
    await sleep(1000);
  }
  const workers = await cluster.heartbeats();
  const orphans = cluster.orphans();
  for (const orphan of orphans) signalPid(orphan.pid, 'SIGKILL');

  const after = snapshotFiles(cluster);
  let modelIds = new Set<string>();
  try {
    modelIds = new Set(
      (await cluster.query<{ id: string }>('SELECT id FROM "Model"')).map((r) => r.id),
    );
  } catch {
    // unknown: report none as orphaned
    modelIds = after.models;
  }
  return {
    stuckJobs: stuck,
    liveWorkers: workers?.length ?? null,
    orphanProcesses: orphans,
    tmpFiles: added(before.tmp, after.tmp),
    checkpoints: added(before.checkpoints, after.checkpoints),
    partialFiles: added(before.partials, after.partials),
    orphanModelDirs: added(before.models, after.models).filter((id) => !modelIds.has(id)),
  };
}

/**
 * So that one scenario's stuck job cannot disturb the next: stuck rows are failed (and flagged
 * cancelled); if one was running, the workers are replaced.
 */
export async function clearStuck(cluster: Cluster, stuck: StuckJob[]): Promise<void> {
  if (stuck.length === 0) return;
  await cluster.query(
    `UPDATE "TrainingJob"
        SET status = 'failed', "cancelRequested" = true, "finishedAt" = now(), "updatedAt" = now(),
            error = 'left stuck: failed by the chaos bench to clear the way'
      WHERE id = ANY($1::uuid[]) AND status IN ('queued', 'running')`,
    [stuck.map((s) => s.id)],
  );
  if (stuck.some((s) => s.status === 'running')) await cluster.replaceWorkers();
}
