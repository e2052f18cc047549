/** The chaos bench's result per scenario, and the table printed without --json. */
import type { Regressions } from './http.js';
import type { Leftovers } from './leftovers.js';

export interface ScenarioResult {
  scenario: string;
  /** What was done, in a line. */
  fault: string;
  /**
   * The job's final status; `timeout (<status>)` when it had none within the scenario's time;
   * for scenarios without a job, what was answered; `skipped: …` / `error: …`.
   */
  status: string;
  jobId?: string;
  /** Submit (or row insert) to final status, from the job's createdAt / finishedAt. */
  wallSeconds: number | null;
  /** wallSeconds minus the mean of the fault-free runs. */
  secondsLost: number | null;
  progressWentBackwards: boolean | null;
  regressions?: Regressions;
  /** The job's polls where something changed (http.ts `timeline`). */
  timeline?: string[];
  /** The scenario's own findings (exit times, status codes during outages…). */
  measurements: Record<string, unknown>;
  /** The findings in a few words, for the table. */
  summary: string[];
  leftovers?: Leftovers;
  notes: string[];
}

export function newResult(scenario: string, fault: string): ScenarioResult {
  return {
    scenario,
    fault,
    status: 'n/a',
    wallSeconds: null,
    secondsLost: null,
    progressWentBackwards: null,
    measurements: {},
    summary: [],
    notes: [],
  };
}

const round1 = (n: number | null) => (n === null ? '—' : n.toFixed(1));

function leftoverText(l: Leftovers | undefined): string {
  if (!l) return '—';
  const parts: string[] = [];
  if (l.stuckJobs.length)
    parts.push(
      `${l.stuckJobs.length} stuck job(s) (${l.stuckJobs.map((j) => j.status).join(', ')})`,
    );
  if (l.orphanProcesses.length) parts.push(`${l.orphanProcesses.length} orphan process(es)`);
  if (l.tmpFiles.length) parts.push(`${l.tmpFiles.length} tmp file(s)`);
  if (l.checkpoints.length) parts.push(`${l.checkpoints.length} checkpoint folder(s)`);
  if (l.partialFiles.length) parts.push(`${l.partialFiles.length} .partial file(s)`);
  if (l.orphanModelDirs.length) parts.push(`${l.orphanModelDirs.length} orphan model dir(s)`);
  return parts.length ? parts.join('; ') : 'none';
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.length ? lines : [''];
}

/** A plain-text table, one block of rows per scenario (long cells wrap). */
export function table(
  results: ScenarioResult[],
  referenceSeconds: number | null,
  note = '',
): string {
  const headers = [
    'scenario',
    'final status',
    'wall s',
    'lost s',
    'backwards',
    'leftovers',
    'findings',
  ];
  const widths = [26, 22, 7, 7, 9, 30, 60];
  const rows = results.map((r) => [
    r.scenario,
    r.status,
    round1(r.wallSeconds),
    round1(r.secondsLost),
    r.progressWentBackwards === null ? '—' : r.progressWentBackwards ? 'YES' : 'no',
    leftoverText(r.leftovers),
    [...r.summary, ...r.notes].join('; ') || '—',
  ]);
  const render = (cells: string[]) => {
    const wrapped = cells.map((cell, i) => wrap(cell, widths[i] ?? 20));
    const height = Math.max(...wrapped.map((w) => w.length));
    const out: string[] = [];
    for (let line = 0; line < height; line++)
      out.push(
        wrapped
          .map((w, i) => (w[line] ?? '').padEnd(widths[i] ?? 20))
          .join(' | ')
          .trimEnd(),
      );
    return out.join('\n');
  };
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  const lines = [
    `fault-free reference: ${referenceSeconds === null ? '—' : `${referenceSeconds.toFixed(1)} s`} (mean of the fault-free runs)${note}`,
    render(headers),
    rule,
  ];
  for (const row of rows) lines.push(render(row), rule);
  return lines.join('\n');
}
