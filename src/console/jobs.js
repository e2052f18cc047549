// @ts-check
import { api, sleep } from './api.js';
import { epochChart, runningChart } from './charts.js';
import { duration, h, num, pct, replace, shortId, table, when } from './dom.js';
import { followJob } from './events.js';
import { clearMessages, fail, say, sayNext } from './messages.js';

export const PHASE_NAMES = {
  features: 'caching features',
  featureExtraction: 'head on frozen features',
  fineTuning: 'fine-tuning',
  export: 'exporting',
};
const ACTIVE = new Set(['queued', 'running']);

/** @param {string | null | undefined} phase */
const phaseName = (phase) => (phase ? (/** @type {any} */ (PHASE_NAMES)[phase] ?? phase) : '—');

/** @param {string} status */
const badge = (status) => h('span', { class: `badge ${status}` }, status);

/** @param {import('./app.js').PageContext} ctx */
export async function jobsPage({ main, signal, params }) {
  document.title = 'Jobs · Graft console';
  const list = h('div', null, h('p', null, 'Loading…'));
  const [datasets, catalog] = await Promise.all([
    api('/v1/datasets?limit=100', { signal }),
    api('/v1/base-models', { signal }).catch(() => null),
  ]);
  // The catalog's catch would swallow an abort: the user may have left meanwhile.
  signal.throwIfAborted();
  replace(
    main,
    h('h1', { tabindex: '-1' }, 'Jobs'),
    jobForm(datasets.items, catalog, params.get('dataset')),
    h(
      'section',
      { 'aria-labelledby': 'jobs-list' },
      h('h2', { id: 'jobs-list' }, 'Your jobs'),
      list,
    ),
  );
  // While a job is active, the list refreshes itself.
  for (;;) {
    const page = await api('/v1/jobs?limit=50', { signal });
    const names = new Map(datasets.items.map((/** @type {any} */ d) => [d.id, d.name]));
    replace(
      list,
      page.items.length === 0
        ? h('p', null, 'No jobs yet: start one above.')
        : table(
            `${page.total} job${page.total === 1 ? '' : 's'}, newest first`,
            ['Job', 'Status', 'Phase', 'Progress', 'Dataset', 'Base', 'Created'],
            page.items.map((/** @type {any} */ j) => [
              h('a', { href: `#/jobs/${j.id}`, title: j.id }, shortId(j.id)),
              badge(j.status),
              j.status === 'succeeded' ? 'done' : phaseName(j.phase),
              pct(j.progress, 0),
              j.datasetId ? (names.get(j.datasetId) ?? shortId(j.datasetId)) : '—',
              j.baseModel,
              when(j.createdAt),
            ]),
            { rowHeader: true },
          ),
    );
    if (!page.items.some((/** @type {any} */ j) => ACTIVE.has(j.status))) return;
    await new Promise((resolve) => setTimeout(resolve, 5000));
    if (signal.aborted) return;
  }
}

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
 * The common fields of a training spec (docs/training.md has them all); the defaults shown are
 * the server's.
 * @param {any[]} datasets @param {any} catalog @param {string | null} preselected
 */
function jobForm(datasets, catalog, preselected) {
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
  const fineFields = [fineEpochs, fineRate, fineBatch];
  fine.addEventListener('change', () => fineFields.forEach((f) => (f.disabled = !fine.checked)));
  const submit = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'submit', disabled: datasets.length === 0 }, 'Start training')
  );

  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'new-job-title' },
    h('h2', { id: 'new-job-title' }, 'Start a job'),
    datasets.length === 0 ? h('p', null, 'Upload a dataset first.') : null,
    h(
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
        field(
          'job-head-rate',
          'Learning rate',
          headRate,
          'Of linear heads (hidden layers: a fifth)',
        ),
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
    ),
    h(
      'div',
      { class: 'check' },
      allowBaseline,
      h('label', { for: 'job-baseline' }, 'Ship the raw-pixel baseline when it validates better'),
    ),
    h('div', { class: 'actions' }, submit),
  );
  fine.id = 'job-fine';
  allowBaseline.id = 'job-baseline';
  form.addEventListener('submit', (event) => {
    event.preventDefault();
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

const PHASE_ORDER = { featureExtraction: 0, fineTuning: 1 };

/** H1, F3: an epoch record's name on the axis, in the note and in the table. @param {any} r */
const epochName = (r) => `${r.phase === 'fineTuning' ? 'F' : 'H'}${r.epoch}`;

/** "H1", "F1–F20": the span of a phase's records. @param {any[]} records */
const span = (records) => {
  const first = records[0];
  const last = records.at(-1);
  if (!first || !last) return '';
  return first === last ? epochName(first) : `${epochName(first)}–${epochName(last)}`;
};

/** @param {import('./app.js').PageContext} ctx @param {string} id */
export async function jobPage({ main, signal }, id) {
  /** @type {any} */
  let job = await api(`/v1/jobs/${id}`, { signal });
  /** @type {string | undefined} */
  const datasetName = job.datasetId
    ? await api(`/v1/datasets/${job.datasetId}`, { signal }).then(
        (/** @type {any} */ d) => d.name,
        // A dataset name is a nicety; leaving the page is not.
        () => signal.throwIfAborted(),
      )
    : undefined;
  signal.throwIfAborted();
  document.title = `Job ${shortId(id)} · Graft console`;
  // The stream replays the job's whole history first. A job already finished when the page
  // opened takes its status from its row, not from the replay (which would pass through queued
  // and running again), and nothing of the replay is announced as news.
  const finishedAtOpen = !ACTIVE.has(job.status);

  /** Epoch records by phase and number: the job's history, then each `epoch` event. */
  const epochs = new Map();
  /** @type {[number[], (number | null)[], (number | null)[]]} */
  const running = [[], [], []];
  const started = () => Date.parse(job.startedAt ?? job.createdAt);

  const title = h('h1', { tabindex: '-1', id: 'job-title' }, `Job ${shortId(id)}`);
  const summary = h('section', {
    class: 'card summary',
    'aria-labelledby': 'job-title',
    id: 'job-summary',
  });
  const connection = h('p', { class: 'hint', id: 'connection' });
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
  replace(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/jobs' }, 'Jobs'), ' / ', shortId(id)),
    title,
    summary,
    connection,
    curves,
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

  const drawEpochs = () => {
    const records = ordered();
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
    const head = records.filter((r) => r.phase === 'featureExtraction');
    const fine = records.filter((r) => r.phase === 'fineTuning');
    /** @type {(string | HTMLElement)[]} */
    const lines = [];
    if (records.length === 0) lines.push('No epoch has ended yet.');
    if (head.length > 0 || (records.length === 0 && ACTIVE.has(job.status)))
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
    const m = job.metrics;
    finalNote.hidden = !m;
    if (m) {
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
    }
    replace(
      epochTable,
      table(
        'Loss and accuracy per epoch (held out: the validation set for H, a held-out fold of the training split for F)',
        ['Epoch', 'Phase', 'Loss', 'Accuracy', 'Held-out loss', 'Held-out accuracy'],
        records.map((r) => [
          epochName(r),
          phaseName(r.phase),
          num(r.loss),
          pct(r.accuracy),
          num(r.valLoss),
          pct(r.valAccuracy),
        ]),
        { className: 'data compact', rowHeader: true },
      ),
    );
  };
  const drawRunning = () => {
    runChart.setData(running);
    curves.dataset.runningPoints = String(running[0].length);
  };

  // Cancelling asks first, inline: a question and two buttons that take the keyboard focus.
  const cancelButton = /** @type {HTMLButtonElement} */ (
    h(
      'button',
      { type: 'button', class: 'danger', id: 'cancel-job', 'aria-controls': 'cancel-confirm' },
      'Cancel job',
    )
  );
  const confirmYes = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', class: 'danger', id: 'cancel-yes' }, 'Yes, cancel the job')
  );
  const confirmNo = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', class: 'secondary', id: 'cancel-no' }, 'Keep it running')
  );
  const confirmBox = h(
    'div',
    {
      class: 'confirm',
      id: 'cancel-confirm',
      role: 'group',
      'aria-labelledby': 'cancel-question',
      hidden: true,
    },
    h(
      'p',
      { id: 'cancel-question' },
      'Cancel this job? It stops within seconds and makes no model.',
    ),
    h('div', { class: 'actions' }, confirmYes, confirmNo),
  );
  const actions = h('div', { class: 'actions' }, cancelButton, confirmBox);
  let confirming = false;
  const confirm = (/** @type {boolean} */ open) => {
    confirming = open;
    drawSummary();
    (open ? confirmNo : cancelButton).focus();
  };
  cancelButton.addEventListener('click', () => confirm(true));
  confirmNo.addEventListener('click', () => confirm(false));
  confirmBox.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') confirm(false);
  });
  confirmYes.addEventListener('click', () => {
    confirmYes.disabled = true;
    clearMessages();
    api(`/v1/jobs/${id}/cancel`, { method: 'POST' })
      .then((/** @type {any} */ answer) => {
        job = { ...job, ...answer, history: job.history };
        confirming = false;
        drawSummary();
        // The buttons are gone: focus goes to the job's heading, the status says what happens.
        title.focus();
        say('Cancel requested: the job stops within seconds.');
      })
      .catch((/** @type {unknown} */ error) => {
        confirming = false;
        drawSummary();
        if (!cancelButton.hidden) cancelButton.focus();
        else title.focus();
        fail(error);
      })
      .finally(() => (confirmYes.disabled = false));
  });

  const facts = h('dl', { class: 'facts' });
  replace(summary, facts, actions);

  /** Where training is, told as what the numbers count in each phase. @returns {[string, string]} */
  const step = () => {
    const records = ordered();
    if (!ACTIVE.has(job.status)) {
      const last = records.at(-1);
      if (!last) return ['Last epoch', '—'];
      return [
        'Last epoch',
        last.phase === 'fineTuning'
          ? `${epochName(last)} (fine-tuning epoch ${last.epoch}${job.spec?.fineTuning?.epochs ? ` of at most ${job.spec.fineTuning.epochs}` : ''})`
          : `${epochName(last)} (the head)`,
      ];
    }
    if (job.phase === 'featureExtraction') {
      // The phase's progress counts head-search settings cross-validated, then one step for
      // the chosen head trained (its record, H1).
      if (records.some((r) => r.phase === 'featureExtraction')) return ['Head', 'trained (H1)'];
      return [
        'Head search',
        job.epoch === null ? 'starting' : `setting ${job.epoch} of ${job.epochs}`,
      ];
    }
    if (job.phase === 'fineTuning' && job.epoch !== null)
      return ['Epoch', `${job.epoch} of at most ${job.epochs}`];
    return ['Epoch', '—'];
  };

  /** Succeeded: done; ended otherwise: where it stopped; else the phase running. */
  const phaseText = () => {
    if (job.status === 'succeeded') return 'done';
    if (ACTIVE.has(job.status)) return phaseName(job.phase);
    return job.phase ? `stopped during ${phaseName(job.phase)}` : '—';
  };

  const drawSummary = () => {
    summary.dataset.status = job.status;
    const active = ACTIVE.has(job.status);
    const canCancel = active && !job.cancelRequested;
    const hadFocus = actions.contains(document.activeElement);
    if (!canCancel) confirming = false;
    actions.hidden = !canCancel;
    cancelButton.hidden = confirming;
    confirmBox.hidden = !confirming;
    // The buttons went away under the keyboard focus (the job ended): keep it on the page.
    if (hadFocus && actions.hidden) title.focus();
    const [stepTerm, stepValue] = step();
    replace(
      facts,
      fact('Status', [badge(job.status), job.cancelRequested && active ? ' (cancelling)' : '']),
      fact('Phase', phaseText()),
      fact('Progress', [
        h('progress', { max: 1, value: job.progress, 'aria-label': 'Job progress' }),
        ` ${pct(job.progress, 0)}`,
      ]),
      fact(stepTerm, stepValue),
      fact('Time left', active ? duration(job.etaSeconds) : '—'),
      fact(
        'Dataset',
        job.datasetId
          ? h('a', { href: `#/datasets/${job.datasetId}` }, datasetName ?? shortId(job.datasetId))
          : 'deleted',
      ),
      fact('Base', job.baseModel),
      fact('Created', when(job.createdAt)),
      fact('Started', when(job.startedAt)),
      fact('Finished', when(job.finishedAt)),
      job.modelId
        ? fact(
            'Model',
            h('a', { href: `#/models/${job.modelId}` }, `Model ${shortId(job.modelId)}`),
          )
        : null,
      job.error ? fact('Error', h('span', { class: 'error-text' }, job.error)) : null,
    );
  };

  for (const record of job.history) epochs.set(`${record.phase}:${record.epoch}`, record);
  drawSummary();
  drawEpochs();

  /** @param {any} event */
  const onEvent = (event) => {
    switch (event.type) {
      case 'state': {
        if (finishedAtOpen) break;
        // A replayed `queued` from before the run the row already tells of.
        if (
          event.status === 'queued' &&
          job.startedAt &&
          Date.parse(event.at) < Date.parse(job.startedAt)
        )
          break;
        const wasActive = ACTIVE.has(job.status);
        job = {
          ...job,
          status: event.status,
          cancelRequested: event.cancelRequested,
          error: event.error,
          modelId: event.modelId ?? job.modelId,
        };
        if (event.status === 'running' && !job.startedAt) job.startedAt = event.at;
        if (!ACTIVE.has(event.status) && !job.finishedAt) job.finishedAt = event.at;
        // The job was active when the page opened, so its end is news.
        if (wasActive && !ACTIVE.has(event.status)) say(`Job ${event.status}.`);
        drawSummary();
        if (wasActive && !ACTIVE.has(event.status)) drawEpochs();
        break;
      }
      case 'progress':
        if (event.loss !== null) {
          running[0].push(Math.max(0, (Date.parse(event.at) - started()) / 1000));
          running[1].push(event.loss);
          running[2].push(event.accuracy);
          drawRunning();
        }
        if (finishedAtOpen) break;
        job = {
          ...job,
          phase: event.phase,
          progress: event.progress,
          epoch: event.epoch,
          epochs: event.epochs,
          etaSeconds: event.etaSeconds,
        };
        drawSummary();
        break;
      case 'epoch':
        epochs.set(`${event.record.phase}:${event.record.epoch}`, event.record);
        drawEpochs();
        drawSummary();
        break;
      case 'report':
        job = { ...job, metrics: event.metrics, modelId: event.modelId };
        drawSummary();
        drawEpochs();
        break;
      default:
        break;
    }
  };

  /** Reads the job as stored; says whether it has finished. */
  const poll = async () => {
    job = await api(`/v1/jobs/${id}`, { signal });
    for (const record of job.history) epochs.set(`${record.phase}:${record.epoch}`, record);
    drawSummary();
    drawEpochs();
    return !ACTIVE.has(job.status);
  };
  const outcome = await followJob(id, {
    signal,
    onEvent,
    poll: () => poll().catch(() => false),
    onConnection: (state) =>
      replace(
        connection,
        state === 'live'
          ? finishedAtOpen
            ? 'The job has finished: its events are replayed.'
            : 'Live: following the job’s events.'
          : state === 'reconnecting'
            ? 'Connection lost: reconnecting…'
            : state === 'polling'
              ? 'Live events are unavailable for now: reading the job every few seconds.'
              : ACTIVE.has(job.status)
                ? ''
                : 'The job has finished.',
      ),
  });
  // Without an event stream, poll; either way, end with the job as stored.
  while (outcome === 'unsupported' && ACTIVE.has(job.status)) {
    await sleep(2000, signal);
    await poll();
  }
  signal.throwIfAborted();
  await poll();
}

/** @param {string} term @param {any} value */
const fact = (term, value) => [h('dt', null, term), h('dd', null, value)];
