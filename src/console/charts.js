// @ts-check
import uPlot from '/console/vendor/uPlot.esm.js';

/*
 * Charts, all uPlot: line charts for the training curves and the reliability diagram, bars for
 * the baseline-versus-transfer comparison. Each fills its container's width and follows it.
 */

/** Colours that keep ≥ 3:1 against white for lines (WCAG non-text contrast). */
export const COLOURS = {
  train: '#1f5fbf',
  validation: '#b3461b',
  third: '#2e7d32',
  grey: '#5c6470',
};

/** Losses from zero to a little over their highest (uPlot's default spans 0–100 for all zeros). */
const fromZero = (/** @type {any} */ _u, /** @type {number} */ _min, /** @type {number} */ max) => [
  0,
  max > 0 ? max * 1.1 : 1,
];

const AXIS = { stroke: '#3b4350', grid: { stroke: '#e3e6ea' }, ticks: { stroke: '#c9ced5' } };

/**
 * A chart that lives as long as its page: destroyed (its ResizeObserver too) when the page's
 * signal fires, or at once if the page was already left.
 * @param {HTMLElement} container
 * @param {any} options uPlot options without width/height
 * @param {any[]} data
 * @param {AbortSignal} signal the page's
 * @param {number} [height]
 */
function mount(container, options, data, signal, height = 240) {
  const width = () => Math.max(240, container.clientWidth || 600);
  const plot = new uPlot({ ...options, width: width(), height }, data, container);
  const resize = new ResizeObserver(() => plot.setSize({ width: width(), height }));
  resize.observe(container);
  let destroyed = false;
  const destroy = () => {
    if (destroyed) return;
    destroyed = true;
    resize.disconnect();
    plot.destroy();
  };
  if (signal.aborted) destroy();
  else signal.addEventListener('abort', destroy, { once: true });
  return {
    plot,
    /** @param {any[]} next */
    setData(next) {
      if (!destroyed) plot.setData(next);
    },
    destroy,
  };
}

/**
 * Loss or accuracy per epoch across both phases: x is the epoch's position over the whole job,
 * and its tick names the phase (H1 = the head, F2 = fine-tuning epoch 2). Solid: training;
 * dashed: held out (what each phase judged itself on, see the job page's note); once the job
 * has its report, a dotted level: the shipped model on the validation set.
 * @param {HTMLElement} container
 * @param {{ title: string, yLabel: string, percent?: boolean, tickLabel: (x: number) => string, signal: AbortSignal }} options
 */
export function epochChart(container, { title, yLabel, percent = false, tickLabel, signal }) {
  const format = (/** @type {number | null} */ v) =>
    v === null || v === undefined ? '—' : percent ? `${(v * 100).toFixed(1)} %` : v.toFixed(3);
  const value = (/** @type {any} */ _u, /** @type {number} */ v) => format(v);
  const chart = mount(
    container,
    {
      title,
      legend: { live: false },
      scales: { x: { time: false }, y: { range: percent ? [0, 1] : fromZero } },
      axes: [
        {
          ...AXIS,
          label: 'epoch (H: head, F: fine-tuning)',
          incrs: [1, 2, 5, 10, 20, 50],
          values: (/** @type {any} */ _u, /** @type {number[]} */ ticks) => ticks.map(tickLabel),
        },
        {
          ...AXIS,
          label: yLabel,
          values: (/** @type {any} */ _u, /** @type {number[]} */ ticks) =>
            ticks.map((v) => (percent ? `${Math.round(v * 100)} %` : v.toFixed(2))),
        },
      ],
      series: [
        { label: 'epoch', value: (/** @type {any} */ _u, /** @type {number} */ x) => tickLabel(x) },
        {
          label: 'training',
          stroke: COLOURS.train,
          width: 2,
          points: { show: true, size: 6 },
          value,
        },
        {
          label: 'held-out',
          stroke: COLOURS.validation,
          width: 2,
          dash: [6, 4],
          points: { show: true, size: 6 },
          value,
        },
      ],
    },
    [[], [], []],
    signal,
  );
  /** @type {[number[], (number | null)[], (number | null)[]]} */
  let epochs = [[], [], []];
  /** @type {number | null} */
  let final = null;
  const draw = () =>
    chart.setData(
      final === null ? epochs : [...epochs, epochs[0].map(() => /** @type {number} */ (final))],
    );
  return {
    /** @param {number[]} xs @param {(number | null)[]} train @param {(number | null)[]} heldOut */
    setEpochs(xs, train, heldOut) {
      epochs = [xs, train, heldOut];
      draw();
    },
    /** The shipped model's value on the validation set, drawn as a level. @param {number} value */
    setFinal(value) {
      if (signal.aborted) return;
      if (final === null)
        chart.plot.addSeries(
          {
            label: 'validation set (final)',
            stroke: COLOURS.third,
            width: 2,
            dash: [2, 3],
            points: { show: false },
            value: (/** @type {any} */ _u, /** @type {number | null} */ v) => format(v),
          },
          3,
        );
      final = value;
      draw();
    },
    destroy: () => chart.destroy(),
  };
}

/**
 * The running loss and accuracy of the batches over the whole job (every `progress` event that
 * has them, both phases), against seconds since the job started.
 * @param {HTMLElement} container @param {AbortSignal} signal the page's
 */
export function runningChart(container, signal) {
  return mount(
    container,
    {
      title: 'Running loss and accuracy (batches)',
      legend: { live: false },
      scales: { x: { time: false }, y: { range: fromZero }, acc: { range: [0, 1] } },
      axes: [
        { ...AXIS, label: 'seconds since start' },
        { ...AXIS, label: 'loss' },
        {
          ...AXIS,
          side: 1,
          scale: 'acc',
          label: 'accuracy',
          grid: { show: false },
          values: (/** @type {any} */ _u, /** @type {number[]} */ ticks) =>
            ticks.map((v) => `${Math.round(v * 100)} %`),
        },
      ],
      series: [
        { label: 'seconds' },
        { label: 'loss', stroke: COLOURS.train, width: 2 },
        {
          label: 'accuracy',
          stroke: COLOURS.third,
          width: 2,
          dash: [6, 4],
          scale: 'acc',
          value: (/** @type {any} */ _u, /** @type {number | null} */ v) =>
            v === null ? '—' : `${(v * 100).toFixed(1)} %`,
        },
      ],
    },
    [[], [], []],
    signal,
    200,
  );
}

/**
 * Bars of validation accuracy, one per model (baseline, head only, fine-tuned).
 * @param {HTMLElement} container
 * @param {{ label: string, accuracy: number }[]} bars
 * @param {AbortSignal} signal the page's
 */
export function accuracyBars(container, bars, signal) {
  const xs = bars.map((_, i) => i);
  return mount(
    container,
    {
      title: 'Validation accuracy',
      legend: { show: false },
      scales: { x: { time: false, range: [-0.5, bars.length - 0.5] }, y: { range: [0, 1] } },
      axes: [
        {
          ...AXIS,
          incrs: [1],
          values: (/** @type {any} */ _u, /** @type {number[]} */ ticks) =>
            ticks.map((t) => bars[t]?.label ?? ''),
        },
        {
          ...AXIS,
          label: 'accuracy',
          values: (/** @type {any} */ _u, /** @type {number[]} */ ticks) =>
            ticks.map((v) => `${Math.round(v * 100)} %`),
        },
      ],
      series: [
        {},
        {
          label: 'accuracy',
          fill: '#1f5fbfcc',
          stroke: COLOURS.train,
          paths: uPlot.paths.bars?.({ size: [0.5, 80] }),
          points: { show: false },
        },
      ],
    },
    [xs, bars.map((b) => b.accuracy)],
    signal,
    220,
  );
}
