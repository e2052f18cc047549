// @ts-check
import { api, sleep } from './api.js';
import { h, replace, shortId } from './dom.js';
import { followJob } from './events.js';
import { ACTIVE } from './job-common.js';
import { jobCurves } from './job-curves.js';
import { jobSummary } from './job-summary.js';
import { say } from './messages.js';

/*
 * A job's page: its summary and curves, from the job as stored, then live from its events.
 */

/** @param {import('./app.js').PageContext} ctx @param {string} id */
export async function jobPage({ main, signal }, id) {
  const state = { job: await api(`/v1/jobs/${id}`, { signal }) };
  /** @type {string | undefined} */
  const datasetName = state.job.datasetId
    ? await api(`/v1/datasets/${state.job.datasetId}`, { signal }).then(
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
  const finishedAtOpen = !ACTIVE.has(state.job.status);

  const title = h('h1', { tabindex: '-1', id: 'job-title' }, `Job ${shortId(id)}`);
  const curves = jobCurves(state, signal);
  const summary = jobSummary(state, { id, title, datasetName, curves });
  const connection = h('p', { class: 'hint', id: 'connection' });
  replace(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/jobs' }, 'Jobs'), ' / ', shortId(id)),
    title,
    summary.el,
    connection,
    curves.el,
  );

  /** Reads the job as stored, draws it, and says whether it has finished. */
  const poll = async () => {
    const wasActive = ACTIVE.has(state.job.status);
    state.job = await api(`/v1/jobs/${id}`, { signal });
    // An end learned from the row (the stream ended first, or is unavailable) is news too.
    if (wasActive && !ACTIVE.has(state.job.status)) say(`Job ${state.job.status}.`);
    curves.addHistory(state.job.history);
    summary.draw();
    curves.draw();
    return !ACTIVE.has(state.job.status);
  };
  curves.addHistory(state.job.history);
  summary.draw();
  curves.draw();

  const outcome = await followJob(id, {
    signal,
    onEvent: (event) => onEvent(state, event, { finishedAtOpen, summary, curves }),
    poll: () => poll().catch(() => false),
    onConnection: (connectionState) =>
      replace(connection, connectionText(connectionState, finishedAtOpen, state.job)),
  });
  // Without an event stream, poll; either way, end with the job as stored.
  while (outcome === 'unsupported' && ACTIVE.has(state.job.status)) {
    await sleep(2000, signal);
    await poll();
  }
  signal.throwIfAborted();
  await poll();
}

/**
 * @param {'live' | 'reconnecting' | 'polling' | 'ended'} connectionState
 * @param {boolean} finishedAtOpen @param {any} job
 */
function connectionText(connectionState, finishedAtOpen, job) {
  switch (connectionState) {
    case 'live':
      return finishedAtOpen
        ? 'The job has finished: its events are replayed.'
        : 'Live: following the job’s events.';
    case 'reconnecting':
      return 'Connection lost: reconnecting…';
    case 'polling':
      return 'Live events are unavailable for now: reading the job every few seconds.';
    default:
      return ACTIVE.has(job.status) ? '' : 'The job has finished.';
  }
}

/**
 * One event of the job's stream, drawn.
 * @param {{ job: any }} state @param {any} event
 * @param {{ finishedAtOpen: boolean, summary: ReturnType<typeof jobSummary>, curves: ReturnType<typeof jobCurves> }} page
 */
function onEvent(state, event, { finishedAtOpen, summary, curves }) {
  const job = state.job;
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
      state.job = {
        ...job,
        status: event.status,
        cancelRequested: event.cancelRequested,
        error: event.error,
        modelId: event.modelId ?? job.modelId,
      };
      if (event.status === 'running' && !job.startedAt) state.job.startedAt = event.at;
      if (!ACTIVE.has(event.status) && !job.finishedAt) state.job.finishedAt = event.at;
      summary.draw();
      // The job was active when the page opened, so its end is news.
      if (wasActive && !ACTIVE.has(event.status)) {
        say(`Job ${event.status}.`);
        curves.draw();
      }
      break;
    }
    case 'progress':
      curves.addProgress(event);
      if (finishedAtOpen) break;
      state.job = {
        ...job,
        phase: event.phase,
        progress: event.progress,
        epoch: event.epoch,
        epochs: event.epochs,
        etaSeconds: event.etaSeconds,
      };
      summary.draw();
      break;
    case 'epoch':
      curves.addEpoch(event.record);
      curves.draw();
      summary.draw();
      break;
    case 'report':
      state.job = { ...job, metrics: event.metrics, modelId: event.modelId };
      summary.draw();
      curves.draw();
      break;
    default:
      break;
  }
}
