// @ts-check
import { api, upload } from './api.js';
import { clearMessages, fail, say, sayNext } from './messages.js';
import { bytes, dropZone, fact, h, pct, replace, table, when } from './dom.js';
import { classGrid, visibility } from './thumbnails.js';

/** @param {import('./app.js').PageContext} ctx */
export async function datasetsPage({ main, signal }) {
  document.title = 'Datasets · Graft console';
  const list = h('div', { class: 'list' }, h('p', null, 'Loading…'));
  replace(
    main,
    h('h1', { tabindex: '-1' }, 'Datasets'),
    uploadForm(signal),
    h(
      'section',
      { 'aria-labelledby': 'datasets-list' },
      h('h2', { id: 'datasets-list' }, 'Your datasets'),
      list,
    ),
  );
  const page = await api('/v1/datasets?limit=100', { signal });
  replace(
    list,
    page.items.length === 0
      ? h('p', null, 'No datasets yet: upload one above.')
      : table(
          `${page.total} dataset${page.total === 1 ? '' : 's'}, newest first`,
          ['Name', 'Images', 'Classes', 'Status', 'Uploaded'],
          page.items.map((/** @type {any} */ d) => [
            h('a', { href: `#/datasets/${d.id}`, title: d.id }, d.name),
            d.imageCount,
            d.classes.map((/** @type {any} */ c) => c.name).join(', '),
            d.status,
            when(d.createdAt),
          ]),
          { rowHeader: true, captionHidden: false },
        ),
  );
}

/** @param {AbortSignal} signal the page's: leaving it aborts the upload */
function uploadForm(signal) {
  /** @type {File | undefined} */
  let chosen;
  const name = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'dataset-name',
      name: 'name',
      type: 'text',
      maxlength: 200,
      placeholder: 'from the file name',
    })
  );
  const progress = /** @type {HTMLProgressElement} */ (
    h('progress', { max: 1, value: 0, 'aria-label': 'Upload progress', hidden: true })
  );
  const progressText = h('span', { class: 'hint' });
  const chosenText = h('p', { class: 'chosen', 'aria-live': 'polite' }, 'No file chosen.');
  const button = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'submit', disabled: true }, 'Upload')
  );
  const { zone } = dropZone({
    label: 'Dataset zip',
    hint: 'Drop a zip here, or choose one: one folder per class, optionally inside train/ and val/.',
    accept: '.zip,application/zip',
    onFile(file) {
      clearMessages();
      chosen = file;
      replace(chosenText, `Chosen: ${file.name} (${bytes(file.size)})`);
      button.disabled = false;
    },
  });
  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title' }, 'Upload a dataset'),
    zone,
    chosenText,
    h('div', { class: 'field' }, h('label', { for: 'dataset-name' }, 'Name (optional)'), name),
    h('div', { class: 'actions' }, button, progress, progressText),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (!chosen) return;
    const body = new FormData();
    // The name goes first: the server reads fields as they stream in.
    const given = name.value.trim() || chosen.name.replace(/\.zip$/i, '');
    body.append('name', given);
    body.append('file', chosen, chosen.name);
    button.disabled = true;
    progress.hidden = false;
    progress.value = 0;
    clearMessages();
    say(`Uploading ${chosen.name}…`);
    upload(
      '/v1/datasets',
      body,
      (sent, total) => {
        progress.value = sent / total;
        replace(
          progressText,
          sent < total ? `${pct(sent / total, 0)} sent` : 'Checking every image…',
        );
      },
      signal,
    )
      .then((/** @type {any} */ dataset) => {
        sayNext(`Uploaded ${dataset.name}: ${dataset.imageCount} images.`);
        location.hash = `#/datasets/${dataset.id}`;
      })
      .catch((/** @type {unknown} */ error) => {
        if (signal.aborted) return;
        fail(error);
        progress.hidden = true;
        replace(progressText);
        button.disabled = false;
      });
  });
  return form;
}

/** @param {import('./app.js').PageContext} ctx @param {string} id */
export async function datasetPage({ main, signal }, id) {
  const d = await api(`/v1/datasets/${id}`, { signal });
  signal.throwIfAborted();
  document.title = `${d.name} · Datasets · Graft console`;
  const report = d.report;
  const whenVisible = visibility(signal);
  const splitText = h(
    'span',
    { id: 'split-counts' },
    d.split === 'given' ? 'train/ and val/ as uploaded' : 'none (jobs split it)',
  );
  replace(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: '#/datasets' }, 'Datasets'), ' / ', d.name),
    h('h1', { tabindex: '-1' }, d.name),
    h(
      'dl',
      { class: 'facts' },
      fact('Images', d.imageCount),
      fact('Split', splitText),
      fact('Status', d.status),
      fact('Uploaded', when(d.createdAt)),
      fact('Id', h('code', null, d.id)),
    ),
    h(
      'p',
      null,
      h('a', { class: 'button', href: `#/jobs?dataset=${d.id}` }, 'Train a model on it'),
    ),
    h(
      'section',
      { 'aria-labelledby': 'classes-title' },
      h('h2', { id: 'classes-title' }, 'Classes'),
      table(
        'Images per class',
        ['Class', 'Images', 'Share'],
        d.classes.map((/** @type {any} */ c) => [
          c.name,
          c.count,
          pct(c.count / Math.max(1, d.imageCount)),
        ]),
        { rowHeader: true, className: 'data compact' },
      ),
    ),
    warnings(report),
    rejected(d),
    h(
      'section',
      { 'aria-labelledby': 'images-title' },
      h('h2', { id: 'images-title' }, 'Images'),
      d.classes.map((/** @type {any} */ c) => classGrid(d.id, c, signal, whenVisible)),
    ),
  );
  // The view has no counts per split: two one-image pages of the listing tell the totals (per
  // class it would take a call per class and split, which the page does not spend).
  if (d.split === 'given') {
    const total = (/** @type {string} */ split) =>
      api(`/v1/datasets/${d.id}/images?split=${split}&limit=1`, { signal }).then(
        (/** @type {any} */ page) => /** @type {number} */ (page.total),
      );
    void Promise.all([total('train'), total('val')])
      .then(([train, val]) =>
        replace(
          splitText,
          `train/ and val/ as uploaded: ${train} training, ${val} validation images`,
        ),
      )
      .catch(() => {
        // The split is still named; the counts are a nicety.
      });
  }
}

/** @param {any} report */
function warnings(report) {
  const title = h('h2', { id: 'report-title' }, 'Report');
  if (!report) {
    return h(
      'section',
      { 'aria-labelledby': 'report-title' },
      title,
      h('p', null, 'No report: uploaded before reports existed.'),
    );
  }
  return h(
    'section',
    { 'aria-labelledby': 'report-title' },
    title,
    h(
      'p',
      { class: 'hint' },
      `${report.duplicateGroups} duplicate groups · ${report.leakedValImages} validation images also in training · imbalance ${report.imbalanceRatio.toFixed(2)} · ${report.smallImages} small images · ${report.greyImages} grey, ${report.colourImages} colour`,
    ),
    report.warnings.length === 0
      ? h('p', { class: 'ok' }, 'No warnings.')
      : h(
          'ul',
          { class: 'warnings' },
          report.warnings.map((/** @type {any} */ w) =>
            h(
              'li',
              null,
              h('strong', null, w.code.replaceAll('_', ' ')),
              ': ',
              w.message,
              w.examples.length > 0
                ? h('span', { class: 'hint' }, ` (e.g. ${w.examples.slice(0, 3).join(', ')})`)
                : null,
            ),
          ),
        ),
  );
}

/** @param {any} d */
function rejected(d) {
  return h(
    'section',
    { 'aria-labelledby': 'rejected-title' },
    h('h2', { id: 'rejected-title' }, `Rejected files (${d.rejectedCount})`),
    d.rejectedCount === 0
      ? h('p', null, 'Every file was a readable image.')
      : [
          table(
            d.rejectedCount > d.rejected.length
              ? `The first ${d.rejected.length} of ${d.rejectedCount} skipped files`
              : 'Skipped files',
            ['File', 'Why'],
            d.rejected.map((/** @type {any} */ r) => [h('code', null, r.path), r.reason]),
            { className: 'data compact' },
          ),
        ],
  );
}
