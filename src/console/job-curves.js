// @ts-check
import { epochChart, runningChart } from './charts.js';
import { h, num, pct, refreshTable, replace, table } from './dom.js';
import { ACTIVE, PHASE_ORDER, epochName, phaseName, span } from './job-common.js';

/*
 * A job's curves: loss and accuracy per epoch over both phases, the running loss and accuracy
 * from progress events, a note on what each phase holds out, the final evaluation, and every
 * epoch as a table.
 */

/**
 * @param {{ job: any }} state the job as the page knows it
 * @param {AbortSignal} signal the page's (the charts go with it)
 */
export function jobCurves(state, signal) {
  /** Epoch records by phase and number: the job's history, then each `epoch` event. */
  const epochs = new Map();
  /** @type {[number[], (number | null)[], (number | null)[]]} */
  const running = [[], [], []];
  const curves = h('section', {
    'aria-labelledby': 'curves-title',
    id: 'curves',
    dataset: { points: '0', runningPoints: '0' },
  });
  const lossBox = h('div', { class: 'chart', id: 'loss-chart' });
  const accuracyBox = h('div', { class: 'chart', id: 'accuracy-chart' });
  const runningBox = h('div', { class: 'chart', id: 'running-chart' });
  const epochTable = h('div');
  const phaseNote = h('div', { class: 'hint', id: 'phase-note' });
  const finalNote = h('p', { id: 'final-evaluation', hidden: true });
  replace(
    curves,
    h('h2', { id: 'curves-title' }, 'Training curves'),
    phaseNote,
    finalNote,
    h('div', { class: 'charts' }, h('figure', null, lossBox), h('figure', null, accuracyBox)),
    h('figure', null, runningBox),
    h('details', null, h('summary', null, 'Every epoch as a table'), epochTable),
  );

  /** @returns {any[]} */
  const ordered = () =>
    [...epochs.values()].sort(
      (a, b) =>
        /** @type {any} */ (PHASE_ORDER)[a.phase] - /** @type {any} */ (PHASE_ORDER)[b.phase] ||
        a.epoch - b.epoch,
    );
  const tickLabel = (/** @type {number} */ x) => {
    const record = ordered()[x - 1];
    return record ? epochName(record) : '';
  };
  const lossChart = epochChart(lossBox, {
    title: 'Loss per epoch',
    yLabel: 'loss',
    tickLabel,
    signal,
  });
  const accuracyChart = epochChart(accuracyBox, {
    title: 'Accuracy per epoch',
    yLabel: 'accuracy',
    percent: true,
    tickLabel,
    signal,
  });
  const runChart = runningChart(runningBox, signal);

  /** @param {any[]} records */
  const drawCharts = (records) => {
    const xs = records.map((_, i) => i + 1);
    lossChart.setEpochs(
      xs,
      records.map((r) => r.loss),
      records.map((r) => r.valLoss),
    );
    accuracyChart.setEpochs(
      xs,
      records.map((r) => r.accuracy),
      records.map((r) => r.valAccuracy),
    );
    curves.dataset.points = String(records.length);
  };

  /** What each phase's curves hold out. @param {any[]} records */
  const drawNote = (records) => {
    const head = records.filter((r) => r.phase === 'featureExtraction');
    const fine = records.filter((r) => r.phase === 'fineTuning');
    /** @type {string[]} */
    const lines = [];
    if (records.length === 0) lines.push('No epoch has ended yet.');
    if (head.length > 0 || (records.length === 0 && ACTIVE.has(state.job.status)))
      lines.push(
        `${head.length > 0 ? span(head) : 'H1'}: the head on frozen features, chosen by cross-validation on the training split. Its training steps publish no metrics, so it is one point, not a curve: solid, its cross-validated score; dashed, the head alone on the validation set.`,
      );
    if (fine.length > 0)
      lines.push(
        `${span(fine)}: fine-tuning epochs. Solid: the training rows; dashed: a held-out fold of the training split (what early stopping watches). The validation set is kept for the final evaluation.`,
      );
    replace(
      phaseNote,
      lines.map((line) => h('p', null, line)),
    );
  };

  /** The report's evaluation of the shipped model on the validation set. */
  const drawFinal = () => {
    const m = state.job.metrics;
    finalNote.hidden = !m;
    if (!m) return;
    const kept = /** @type {any} */ ({
      featureExtraction: 'the head alone',
      fineTuning: 'the fine-tuned model',
      baseline: 'the raw-pixel baseline',
    })[m.kept];
    replace(
      finalNote,
      h('strong', null, `Validation accuracy ${pct(m.evaluation.accuracy)}`),
      ` (loss ${num(m.evaluation.loss)}): ${kept ?? m.kept}, the model shipped, on the ${m.evaluation.count} images of the validation set. Dotted green on the charts.`,
    );
    lossChart.setFinal(m.evaluation.loss);
    accuracyChart.setFinal(m.evaluation.accuracy);
  };

  const tableCaption =
    'Loss and accuracy per epoch (held out: the validation set for H, a held-out fold of the training split for F)';
  /** @param {any[]} records */
  const tableRows = (records) =>
    records.map((r) => [
      epochName(r),
      phaseName(r.phase),
      num(r.loss),
      pct(r.accuracy),
      num(r.valLoss),
      pct(r.valAccuracy),
    ]);
  const options = { className: 'data compact', rowHeader: true };
  const epochBox = table(
    tableCaption,
    ['Epoch', 'Phase', 'Loss', 'Accuracy', 'Held-out loss', 'Held-out accuracy'],
    [],
    options,
  );
  replace(epochTable, epochBox);
  /** Only changed rows are redrawn (the table may hold the keyboard focus). @param {any[]} records */
  const drawTable = (records) => refreshTable(epochBox, tableCaption, tableRows(records), options);

  const draw = () => {
    const records = ordered();
    drawCharts(records);
    drawNote(records);
    drawFinal();
    drawTable(records);
  };

  return {
    el: curves,
    /** The epochs in order (the summary names the last). */
    ordered,
    draw,
    /** @param {any} record an epoch record, from the job's history or an `epoch` event */
    addEpoch(record) {
      epochs.set(`${record.phase}:${record.epoch}`, record);
    },
    /** @param {any[]} history */
    addHistory(history) {
      for (const record of history) epochs.set(`${record.phase}:${record.epoch}`, record);
    },
    /** A progress event's running loss and accuracy, at seconds since the job started. @param {any} event */
    addProgress(event) {
      if (event.loss === null) return;
      const started = Date.parse(state.job.startedAt ?? state.job.createdAt);
      running[0].push(Math.max(0, (Date.parse(event.at) - started) / 1000));
      running[1].push(event.loss);
      running[2].push(event.accuracy);
      runChart.setData(running);
      curves.dataset.runningPoints = String(running[0].length);
    },
  };
}
