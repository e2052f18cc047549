// @ts-check
import { h, num, pct, scrollBox, sig, table, uid } from './dom.js';

/* A model's metrics as tables: per class, the confusion matrix, the candidates, calibration and
 * the head settings tried. */

/** @param {any} evaluation */
export function perClass(evaluation) {
  return table(
    `On ${evaluation.count} validation images: accuracy ${pct(evaluation.accuracy)}, loss ${num(evaluation.loss)}`,
    ['Class', 'Precision', 'Recall', 'F1', 'Support'],
    evaluation.perClass.map((/** @type {any} */ c) => [
      c.label,
      pct(c.precision),
      pct(c.recall),
      pct(c.f1),
      c.support,
    ]),
    { rowHeader: true, className: 'data compact' },
  );
}

/**
 * A heat map that is a table: each cell shows its count and row share as text (and in its
 * accessible name), and its shade follows the share, so colour is never the only signal.
 * @param {string[]} labels @param {number[][]} matrix
 */
export function confusionMatrix(labels, matrix) {
  const body = matrix.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0);
    return h(
      'tr',
      null,
      h('th', { scope: 'row' }, labels[i]),
      row.map((count, j) => {
        const share = total === 0 ? 0 : count / total;
        const cell = h(
          'td',
          {
            class: `heat${i === j ? ' diagonal' : ''}`,
            'aria-label': `actual ${labels[i]}, predicted ${labels[j]}: ${count} (${pct(share, 0)} of ${labels[i]})`,
            dataset: { count: String(count) },
          },
          h('span', { class: 'count' }, count),
          h('span', { class: 'share' }, pct(share, 0)),
        );
        const { css, darkText } = shade(share);
        cell.style.backgroundColor = css;
        cell.classList.toggle('light-text', !darkText);
        return cell;
      }),
    );
  });
  return scrollBox(
    h(
      'table',
      { class: 'confusion', id: 'confusion-matrix' },
      h('caption', { id: uid('caption') }, 'Validation images: actual by predicted class'),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('td', { class: 'corner' }, h('span', { class: 'hint' }, 'actual ↓ / predicted →')),
          labels.map((l) => h('th', { scope: 'col' }, l)),
        ),
      ),
      h('tbody', null, body),
    ),
  );
}

/** The heat map's ends: near white for none of the row, the accent's dark blue for all of it. */
const PALE = [244, 248, 253];
const DEEP = [23, 63, 122];

/**
 * A cell's colour for a share of its row, and whether black text reads better on it than white
 * (whichever contrasts more: always at least 4.5:1 with one of the two).
 * @param {number} share
 */
function shade(share) {
  const rgb = PALE.map((from, k) => Math.round(from + ((DEEP[k] ?? 0) - from) * share));
  const linear = rgb.map((v) => {
    const c = v / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const luminance =
    0.2126 * (linear[0] ?? 0) + 0.7152 * (linear[1] ?? 0) + 0.0722 * (linear[2] ?? 0);
  const darkText = (luminance + 0.05) / 0.05 >= 1.05 / (luminance + 0.05);
  return { css: `rgb(${rgb.join(' ')})`, darkText };
}

/** @param {any} m */
export function comparison(m) {
  /** @type {any[][]} */
  const rows = [];
  if (m.baseline)
    rows.push([
      'Raw-pixel baseline',
      pct(m.baseline.evaluation.accuracy),
      num(m.baseline.evaluation.loss),
      m.kept === 'baseline' ? 'yes' : 'no',
    ]);
  rows.push([
    'Head only (frozen base)',
    pct(m.featureExtraction.accuracy),
    num(m.featureExtraction.loss),
    m.kept === 'featureExtraction' ? 'yes' : 'no',
  ]);
  if (m.fineTuning)
    rows.push([
      'Fine-tuned',
      pct(m.fineTuning.accuracy),
      num(m.fineTuning.loss),
      m.kept === 'fineTuning' ? 'yes' : 'no',
    ]);
  return [
    table(
      'Validation accuracy and loss of each candidate',
      ['Model', 'Accuracy', 'Loss', 'Shipped'],
      rows,
      {
        rowHeader: true,
        className: 'data compact',
      },
    ),
    m.transferGain === null || m.transferGain === undefined
      ? null
      : h(
          'p',
          null,
          `Transfer gain over the baseline: ${m.transferGain >= 0 ? '+' : ''}${(m.transferGain * 100).toFixed(1)} points of accuracy.`,
        ),
  ];
}

/** @param {any} c */
export function calibration(c) {
  if (!c) return h('p', null, 'Not calibrated (trained before calibration existed).');
  return table(
    'Probability calibration (temperature scaling)',
    ['Temperature', 'Fitted on', 'ECE before', 'ECE after'],
    [[num(c.temperature), c.fittedOn, pct(c.eceBefore, 2), pct(c.eceAfter, 2)]],
    { className: 'data compact' },
  );
}

/** @param {any} search */
export function tried(search) {
  const same = (/** @type {any} */ a) => JSON.stringify(a) === JSON.stringify(search.chosen);
  return table(
    `${search.tried.length} settings, ${search.folds}-fold cross-validated on the training split in ${search.seconds.toFixed(1)} s`,
    [
      'Features',
      'Hidden units',
      'Dropout',
      'L2',
      'Mirrored',
      'Learning rate',
      'CV accuracy',
      'CV loss',
      'Chosen',
    ],
    search.tried.map((/** @type {any} */ t) => [
      t.features.join(' + '),
      t.hiddenUnits,
      sig(t.dropout),
      sig(t.l2),
      t.mirror ? 'yes' : 'no',
      sig(t.learningRate),
      pct(t.cvAccuracy),
      num(t.cvLoss),
      same(t) ? 'chosen' : '',
    ]),
    { className: 'data compact' },
  );
}
