// @ts-check
import { api, download, objectUrl } from './api.js';
import { accuracyBars } from './charts.js';
import { dropZone, fact, h, pct, replace, shortId, table, when } from './dom.js';
import { PHASE_NAMES } from './job-common.js';
import { calibration, comparison, confusionMatrix, perClass, tried } from './model-metrics.js';
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

/** @param {string} id @param {string} title @param {...any} content */
const section = (id, title, ...content) =>
  h('section', { 'aria-labelledby': id }, h('h2', { id }, title), ...content);

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
