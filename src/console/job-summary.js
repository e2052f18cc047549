// @ts-check
import { api } from './api.js';
import { duration, factList, h, pct, replace, shortId, when } from './dom.js';
import { ACTIVE, badge, epochName, phaseName } from './job-common.js';
import { clearMessages, fail, say } from './messages.js';

/*
 * A job's summary: its facts (status, phase, progress, where training is, time left, …) and
 * the cancel button, which asks first, inline.
 */

/**
 * @param {{ job: any }} state the job as the page knows it
 * @param {{ id: string, title: HTMLElement, datasetName: string | undefined, curves: { ordered: () => any[] } }} parts
 */
export function jobSummary(state, { id, title, datasetName, curves }) {
  const summary = h('section', {
    class: 'card summary',
    'aria-labelledby': 'job-title',
    id: 'job-summary',
  });
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
        // The job's events may have told its end before this answer came (and said so): the
        // answer's older view must not bring it back to running.
        const endedMeanwhile = !ACTIVE.has(state.job.status);
        if (!endedMeanwhile) state.job = { ...state.job, ...answer, history: state.job.history };
        confirming = false;
        drawSummary();
        // The buttons are gone: focus goes to the job's heading, the status says what happens.
        title.focus();
        // A queued job is cancelled at once: its end is the news.
        if (!endedMeanwhile)
          say(
            ACTIVE.has(state.job.status)
              ? 'Cancel requested: the job stops within seconds.'
              : `Job ${state.job.status}.`,
          );
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

  const facts = factList();
  replace(summary, facts.el, actions);

  /** Where training is, told as what the numbers count in each phase. @returns {[string, string]} */
  const step = () => {
    const records = curves.ordered();
    if (!ACTIVE.has(state.job.status)) {
      const last = records.at(-1);
      if (!last) return ['Last epoch', '—'];
      return [
        'Last epoch',
        last.phase === 'fineTuning'
          ? `${epochName(last)} (fine-tuning epoch ${last.epoch}${state.job.spec?.fineTuning?.epochs ? ` of at most ${state.job.spec.fineTuning.epochs}` : ''})`
          : `${epochName(last)} (the head)`,
      ];
    }
    if (state.job.phase === 'featureExtraction') {
      // The phase's progress counts head-search settings cross-validated, then one step for
      // the chosen head trained (its record, H1).
      if (records.some((r) => r.phase === 'featureExtraction')) return ['Head', 'trained (H1)'];
      return [
        'Head search',
        state.job.epoch === null ? 'starting' : `setting ${state.job.epoch} of ${state.job.epochs}`,
      ];
    }
    if (state.job.phase === 'fineTuning' && state.job.epoch !== null)
      return ['Epoch', `${state.job.epoch} of at most ${state.job.epochs}`];
    return ['Epoch', '—'];
  };

  /** Succeeded: done; ended otherwise: where it stopped; else the phase running. */
  const phaseText = () => {
    if (state.job.status === 'succeeded') return 'done';
    if (ACTIVE.has(state.job.status)) return phaseName(state.job.phase);
    return state.job.phase ? `stopped during ${phaseName(state.job.phase)}` : '—';
  };

  function drawSummary() {
    summary.dataset.status = state.job.status;
    const active = ACTIVE.has(state.job.status);
    const canCancel = active && !state.job.cancelRequested;
    const hadFocus = actions.contains(document.activeElement);
    if (!canCancel) confirming = false;
    actions.hidden = !canCancel;
    cancelButton.hidden = confirming;
    confirmBox.hidden = !confirming;
    // The buttons went away under the keyboard focus (the job ended): keep it on the page.
    if (hadFocus && actions.hidden) title.focus();
    const [stepTerm, stepValue] = step();
    const job = state.job;
    facts.set([
      [
        'status',
        'Status',
        [badge(job.status), job.cancelRequested && active ? ' (cancelling)' : ''],
      ],
      ['phase', 'Phase', phaseText()],
      [
        'progress',
        'Progress',
        [
          h('progress', { max: 1, value: job.progress, 'aria-label': 'Job progress' }),
          ` ${pct(job.progress, 0)}`,
        ],
      ],
      ['step', stepTerm, stepValue],
      ['eta', 'Time left', active ? duration(job.etaSeconds) : '—'],
      [
        'dataset',
        'Dataset',
        job.datasetId
          ? h('a', { href: `#/datasets/${job.datasetId}` }, datasetName ?? shortId(job.datasetId))
          : 'deleted',
      ],
      ['base', 'Base', job.baseModel],
      ['created', 'Created', when(job.createdAt)],
      ['started', 'Started', when(job.startedAt)],
      ['finished', 'Finished', when(job.finishedAt)],
      ...(job.modelId
        ? [
            /** @type {[string, string, HTMLElement]} */ ([
              'model',
              'Model',
              h('a', { href: `#/models/${job.modelId}` }, `Model ${shortId(job.modelId)}`),
            ]),
          ]
        : []),
      ...(job.error
        ? [
            /** @type {[string, string, HTMLElement]} */ ([
              'error',
              'Error',
              h('span', { class: 'error-text' }, job.error),
            ]),
          ]
        : []),
    ]);
  }

  return { el: summary, draw: drawSummary };
}
