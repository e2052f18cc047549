// @ts-check
import { api } from './api.js';
import { h, shortId } from './dom.js';
import { clearMessages, fail, sayNext } from './messages.js';

/**
 * A labelled control in a field wrapper.
 * @param {string} id @param {string} label @param {HTMLElement} control @param {string} [hint]
 */
function field(id, label, control, hint) {
  control.id = id;
  if (hint) control.setAttribute('aria-describedby', `${id}-hint`);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id }, label),
    control,
    hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null,
  );
}

/** @param {number} value @param {Record<string, unknown>} [extra] */
const numberInput = (value, extra = {}) =>
  /** @type {HTMLInputElement} */ (
    h('input', { type: 'number', value: String(value), required: true, ...extra })
  );

/**
 * The form's controls; the defaults shown are the server's.
 * @param {any[]} datasets @param {any} catalog @param {string | null} preselected
 */
function controls(datasets, catalog, preselected) {
  const dataset = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { required: true },
      datasets.map((d) =>
        h(
          'option',
          { value: d.id, selected: d.id === preselected },
          `${d.name} (${d.imageCount} images)`,
        ),
      ),
    )
  );
  const base = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      null,
      (catalog?.items ?? []).map((/** @type {any} */ b) =>
        h(
          'option',
          { value: b.id, selected: b.id === catalog.default },
          `${b.id}${b.id === catalog.default ? ' (default)' : ''}`,
        ),
      ),
    )
  );
  const headEpochs = numberInput(100, { min: 1, max: 1000, step: 1 });
  const headRate = numberInput(0.05, { min: 0, max: 1, step: 'any' });
  const fine = /** @type {HTMLInputElement} */ (h('input', { type: 'checkbox', checked: true }));
  const fineEpochs = numberInput(5, { min: 1, max: 1000, step: 1 });
  const fineRate = numberInput(0.0001, { min: 0, max: 1, step: 'any' });
  const fineBatch = numberInput(32, { min: 1, max: 1024, step: 1 });
  const flip = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      null,
      h('option', { value: 'auto' }, 'let cross-validation decide'),
      h('option', { value: 'true' }, 'always'),
      h('option', { value: 'false' }, 'never (left/right matters)'),
    )
  );
  const validation = numberInput(0.2, { min: 0.05, max: 0.5, step: 0.05 });
  const allowBaseline = /** @type {HTMLInputElement} */ (
    h('input', { type: 'checkbox', checked: true })
  );
  return {
    dataset,
    base,
    headEpochs,
    headRate,
    fine,
    fineEpochs,
    fineRate,
    fineBatch,
    flip,
    validation,
    allowBaseline,
  };
}

/** @typedef {ReturnType<typeof controls>} Controls */

/** The three fieldsets: data, phase 1, phase 2. @param {Controls} c */
function fieldsets({
  dataset,
  base,
  headEpochs,
  headRate,
  fine,
  fineEpochs,
  fineRate,
  fineBatch,
  flip,
  validation,
}) {
  return h(
    'div',
    { class: 'grid' },
    h(
      'fieldset',
      null,
      h('legend', null, 'Data'),
      field('job-dataset', 'Dataset', dataset),
      field('job-base', 'Base model', base),
      field(
        'job-validation',
        'Validation split',
        validation,
        'Used when the zip has no val/ folder',
      ),
      field('job-flip', 'Mirrored copies', flip),
    ),
    h(
      'fieldset',
      null,
      h('legend', null, 'Phase 1: head on frozen features'),
      h(
        'p',
        { class: 'hint' },
        'A search tries head settings by cross-validation on the training split, then trains the best on all of it. Each head trains full batch: one epoch is one step over every cached image.',
      ),
      field(
        'job-head-epochs',
        'Full-batch epochs (at most)',
        headEpochs,
        'Per setting tried; early stopping usually ends sooner. The job page counts the settings tried, not these epochs.',
      ),
      field('job-head-rate', 'Learning rate', headRate, 'Of linear heads (hidden layers: a fifth)'),
    ),
    h(
      'fieldset',
      null,
      h('legend', null, 'Phase 2: fine-tuning'),
      h(
        'div',
        { class: 'check' },
        fine,
        h('label', { for: 'job-fine' }, 'Fine-tune the top of the base'),
      ),
      field('job-fine-epochs', 'Epochs (at most)', fineEpochs),
      field('job-fine-rate', 'Learning rate', fineRate, 'Lower than the head’s'),
      field('job-fine-batch', 'Batch size', fineBatch),
    ),
  );
}

/** The spec the form describes (POST /v1/jobs). @param {Controls} c */
function specOf({
  dataset,
  base,
  headEpochs,
  headRate,
  fine,
  fineEpochs,
  fineRate,
  fineBatch,
  flip,
  validation,
  allowBaseline,
}) {
  /** @type {Record<string, unknown>} */
  const body = {
    datasetId: dataset.value,
    // No batch size: phase 1 trains full batch (the spec's field is ignored).
    featureExtraction: {
      epochs: headEpochs.valueAsNumber,
      learningRate: headRate.valueAsNumber,
    },
    fineTuning: fine.checked
      ? {
          enabled: true,
          epochs: fineEpochs.valueAsNumber,
          learningRate: fineRate.valueAsNumber,
          batchSize: fineBatch.valueAsNumber,
        }
      : { enabled: false },
    augmentation: { horizontalFlip: flip.value === 'auto' ? 'auto' : flip.value === 'true' },
    baseline: { allowShip: allowBaseline.checked },
    validationSplit: validation.valueAsNumber,
  };
  if (base.value) body.baseModel = base.value;
  return body;
}

/**
 * The common fields of a training spec (docs/training.md has them all).
 * @param {any[]} datasets @param {any} catalog @param {string | null} preselected
 */
export function jobForm(datasets, catalog, preselected) {
  const c = controls(datasets, catalog, preselected);
  const fineFields = [c.fineEpochs, c.fineRate, c.fineBatch];
  c.fine.addEventListener('change', () =>
    fineFields.forEach((f) => (f.disabled = !c.fine.checked)),
  );
  const submit = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'submit', disabled: datasets.length === 0 }, 'Start training')
  );

  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'new-job-title' },
    h('h2', { id: 'new-job-title' }, 'Start a job'),
    datasets.length === 0 ? h('p', null, 'Upload a dataset first.') : null,
    fieldsets(c),
    h(
      'div',
      { class: 'check' },
      c.allowBaseline,
      h('label', { for: 'job-baseline' }, 'Ship the raw-pixel baseline when it validates better'),
    ),
    h('div', { class: 'actions' }, submit),
  );
  c.fine.id = 'job-fine';
  c.allowBaseline.id = 'job-baseline';
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const body = specOf(c);
    submit.disabled = true;
    clearMessages();
    api('/v1/jobs', { method: 'POST', json: body })
      .then((/** @type {any} */ job) => {
        sayNext(`Job ${shortId(job.id)} queued.`);
        location.hash = `#/jobs/${job.id}`;
      })
      .catch(fail)
      .finally(() => (submit.disabled = false));
  });
  return form;
}
