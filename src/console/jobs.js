// @ts-check
import { api, sleep } from './api.js';
import { h, pct, refreshTable, replace, shortId, table, when } from './dom.js';
import { ACTIVE, badge, phaseName } from './job-common.js';
import { jobForm } from './job-form.js';

export { jobPage } from './job-page.js';

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
  // While a job is active, the list refreshes itself: only the cells that changed (a link
  // in it may have the keyboard focus).
  const names = new Map(datasets.items.map((/** @type {any} */ d) => [d.id, d.name]));
  /** @type {HTMLElement | undefined} */
  let box;
  for (;;) {
    const page = await api('/v1/jobs?limit=50', { signal });
    const caption = `${page.total} job${page.total === 1 ? '' : 's'}, newest first`;
    const rows = page.items.map((/** @type {any} */ j) => [
      h('a', { href: `#/jobs/${j.id}`, title: j.id }, shortId(j.id)),
      badge(j.status),
      j.status === 'succeeded' ? 'done' : phaseName(j.phase),
      pct(j.progress, 0),
      j.datasetId ? (names.get(j.datasetId) ?? shortId(j.datasetId)) : '—',
      j.baseModel,
      when(j.createdAt),
    ]);
    if (page.items.length === 0) {
      box = undefined;
      replace(list, h('p', null, 'No jobs yet: start one above.'));
    } else if (box) {
      refreshTable(box, caption, rows, { rowHeader: true });
    } else {
      box = table(caption, COLUMNS, rows, { rowHeader: true });
      replace(list, box);
    }
    if (!page.items.some((/** @type {any} */ j) => ACTIVE.has(j.status))) return;
    await sleep(5000, signal);
  }
}

const COLUMNS = ['Job', 'Status', 'Phase', 'Progress', 'Dataset', 'Base', 'Created'];
