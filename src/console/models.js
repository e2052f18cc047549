// @ts-check
import { api, download, objectUrl } from './api.js';
import { accuracyBars } from './charts.js';
import {
  dropZone,
  h,
  num,
  pct,
  replace,
  scrollBox,
  shortId,
  sig,
  table,
  uid,
  when,
} from './dom.js';
import { PHASE_NAMES } from './jobs.js';
import { clearMessages, fail, say } from './messages.js';

const KEPT_NAMES = {
  ...PHASE_NAMES,
  featureExtraction: 'head only',
  baseline: 'raw-pixel baseline',
};

/** @param {import('./app.js').PageContext} ctx */
export async function modelsPage({ main, signal }) {
  document.title = 'Models · Graft console';
  const page = await api('/v1/models?limit=100', { signal });
  replace(
    main,
    h('h1', { tabindex: '-1' }, 'Models'),
    page.items.length === 0
      ? h('p', null, 'No models yet: a job that succeeds makes one.')
      : table(
          `${page.total} model${page.total === 1 ? '' : 's'}, newest first`,
          ['Model', 'Labels', 'Base', 'Kept', 'Validation accuracy', 'Created'],
          page.items.map((/** @type {any} */ m) => [
            h('a', { href: `#/models/${m.id}`, title: m.id }, shortId(m.id)),
            m.labels.join(', '),
            m.baseModel,
            /** @type {any} */ (KEPT_NAMES)[m.kept] ?? m.kept,
            pct(m.metrics.accuracy),
            when(m.createdAt),
          ]),
          { rowHeader: true },
        ),
  );
}

/** @param {import('./app.js').PageContext} ctx @param {string} id */
export async function modelPage({ main, signal }, id) {
  const model = await api(`/v1/models/${id}`, { signal });
  signal.throwIfAborted();
  document.title = `Model ${shortId(id)} · Graft console`;
  const m = model.metrics;
  const barsBox = h('div', { class: 'chart', id: 'accuracy-bars' });
  replace(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/models' }, 'Models'), ' / ', shortId(id)),
    h('h1', { tabindex: '-1' }, `Model ${shortId(id)}`),
    h(
      'dl',
      { class: 'facts' },
      fact('Labels', model.labels.join(', ')),
      fact('Base', `${model.baseModel} (${model.inputSize} px)`),
      fact('Validation accuracy', pct(m.accuracy)),
      fact('Kept', /** @type {any} */ (KEPT_NAMES)[model.kept] ?? model.kept),
      fact('Why', model.keptReason),
      fact(
        'Job',
        model.jobId ? h('a', { href: `#/jobs/${model.jobId}` }, shortId(model.jobId)) : '—',
      ),
      fact('Created', when(model.createdAt)),
    ),
    h('div', { class: 'two' }, predictPanel(id), exportPanel(id)),
    section('metrics-title', 'Per-class metrics', perClass(m.evaluation)),
    section(
      'confusion-title',
      'Confusion matrix',
      h(
        'p',
        { class: 'hint' },
        'Rows: the actual class; columns: what the model predicted. The shade is the share of the row.',
      ),
      confusionMatrix(model.labels, m.evaluation.confusionMatrix),
    ),
    section('comparison-title', 'Baseline and transfer', comparison(m), barsBox),
    section('calibration-title', 'Calibration', calibration(m.calibration)),
    m.search ? section('search-title', 'Head settings tried', tried(m.search)) : null,
  );
  const bars = [
    m.baseline ? { label: 'baseline', accuracy: m.baseline.evaluation.accuracy } : null,
    { label: 'head only', accuracy: m.featureExtraction.accuracy },
    m.fineTuning ? { label: 'fine-tuned', accuracy: m.fineTuning.accuracy } : null,
  ].filter((b) => b !== null);
  accuracyBars(barsBox, /** @type {any} */ (bars), signal);
}

/** @param {string} term @param {any} value */
const fact = (term, value) => [h('dt', null, term), h('dd', null, value)];

/** @param {string} id @param {string} title @param {...any} content */
const section = (id, title, ...content) =>
  h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...content);

/** @param {any} evaluation */
function perClass(evaluation) {
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
function confusionMatrix(labels, matrix) {
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
function comparison(m) {
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
function calibration(c) {
  if (!c) return h('p', null, 'Not calibrated (trained before calibration existed).');
  return table(
    'Probability calibration (temperature scaling)',
    ['Temperature', 'Fitted on', 'ECE before', 'ECE after'],
    [[num(c.temperature), c.fittedOn, pct(c.eceBefore, 2), pct(c.eceAfter, 2)]],
    { className: 'data compact' },
  );
}

/** @param {any} search */
function tried(search) {
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

/** Predict by dropping or choosing an image: the top classes with their probabilities. @param {string} id */
function predictPanel(id) {
  const result = h('div', { class: 'prediction', 'aria-live': 'polite', id: 'prediction' });
  const { zone } = dropZone({
    label: 'Image to classify',
    hint: 'Drop an image here, or choose one (JPEG, PNG, WebP…).',
    accept: 'image/*',
    onFile(file) {
      clearMessages();
      const preview = h('img', {
        src: objectUrl(file),
        alt: `The image: ${file.name}`,
        class: 'preview',
      });
      replace(result, preview, h('p', null, 'Classifying…'));
      const body = new FormData();
      body.append('file', file, file.name);
      api(`/v1/models/${id}/predict?topK=5`, { method: 'POST', body })
        .then((/** @type {any} */ answer) => {
          const top = answer.predictions ?? [];
          replace(
            result,
            preview,
            h(
              'div',
              null,
              table(
                `Top classes (${answer.latencyMs.toFixed(0)} ms)`,
                ['Class', 'Probability'],
                top.map((/** @type {any} */ p) => [
                  p.label,
                  h(
                    'span',
                    { class: 'bar' },
                    h('meter', {
                      min: 0,
                      max: 1,
                      value: p.score,
                      'aria-label': `${p.label} probability`,
                    }),
                    ` ${pct(p.score)}`,
                  ),
                ]),
                { rowHeader: true, className: 'data compact' },
              ),
            ),
          );
          if (top[0]) say(`Predicted ${top[0].label} (${pct(top[0].score)}).`);
        })
        .catch((error) => {
          replace(result);
          fail(error);
        });
    },
  });
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'predict-title' },
    h('h2', { id: 'predict-title' }, 'Try it'),
    zone,
    result,
  );
}

/** @param {string} id */
function exportPanel(id) {
  /** @param {string} format @param {string} label */
  const button = (format, label) => {
    const b = /** @type {HTMLButtonElement} */ (
      h('button', { type: 'button', class: 'secondary' }, label)
    );
    b.addEventListener('click', () => {
      b.disabled = true;
      clearMessages();
      say('Preparing the download…');
      download(
        `/v1/models/${id}/export${format === 'onnx' ? '?format=onnx' : ''}`,
        `graft-model-${id}.zip`,
      )
        .then((name) => say(`Downloaded ${name}.`))
        .catch(fail)
        .finally(() => (b.disabled = false));
    });
    return b;
  };
  return h(
    'section',
    { class: 'card', 'aria-labelledby': 'export-title' },
    h('h2', { id: 'export-title' }, 'Export'),
    h('p', null, 'A zip with the model, its metadata and a README with code to run it.'),
    h(
      'div',
      { class: 'actions' },
      button('tfjs', 'Download TF.js model'),
      button('onnx', 'Download ONNX model'),
    ),
  );
}
