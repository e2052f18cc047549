// @ts-check
import { h } from './dom.js';

/* Names the job pages share: phases, statuses, epochs. */

export const PHASE_NAMES = {
  features: 'caching features',
  featureExtraction: 'head on frozen features',
  fineTuning: 'fine-tuning',
  export: 'exporting',
};
export const ACTIVE = new Set(['queued', 'running']);

/** @param {string | null | undefined} phase */
export const phaseName = (phase) =>
  phase ? (/** @type {any} */ (PHASE_NAMES)[phase] ?? phase) : '—';

/** @param {string} status */
export const badge = (status) => h('span', { class: `badge ${status}` }, status);

export const PHASE_ORDER = { featureExtraction: 0, fineTuning: 1 };

/** H1, F3: an epoch record's name on the axis, in the note and in the table. @param {any} r */
export const epochName = (r) => `${r.phase === 'fineTuning' ? 'F' : 'H'}${r.epoch}`;

/** "H1", "F1–F20": the span of a phase's records. @param {any[]} records */
export const span = (records) => {
  const first = records[0];
  const last = records.at(-1);
  if (!first || !last) return '';
  return first === last ? epochName(first) : `${epochName(first)}–${epochName(last)}`;
};
