// @ts-check
import { api, imageUrl, patiently } from './api.js';
import { bytes, h, replace } from './dom.js';
import { clearMessages, fail } from './messages.js';

/*
 * A dataset's thumbnail grids, one per class. A grid asks for its listing only when it scrolls
 * near the screen, and its thumbnails are fetched a few at a time: a dataset of a hundred
 * classes must not spend the key's whole request budget (and see 429s) at once. A busy or
 * rate-limited answer is asked again after its Retry-After.
 */

/** Rows of thumbnails asked for at a time per class (as many as the grid has columns each). */
const ROWS = 3;

/** Thumbnail fetches at once, over every grid of the page. */
const CONCURRENT = 6;

let running = 0;
/** @type {(() => void)[]} */
const waiting = [];

/**
 * Runs `task` when fewer than CONCURRENT others run.
 * @template T @param {() => Promise<T>} task @returns {Promise<T>}
 */
async function queued(task) {
  if (running >= CONCURRENT) await new Promise((resolve) => waiting.push(() => resolve(null)));
  running++;
  try {
    return await task();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/**
 * Calls `onVisible` once, when `el` comes within a screen of the viewport; the observer stops
 * with the page.
 * @param {AbortSignal} signal
 */
export function visibility(signal) {
  /** @type {Map<Element, () => void>} */
  const pending = new Map();
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        pending.get(entry.target)?.();
        pending.delete(entry.target);
      }
    },
    { rootMargin: '100% 0px' },
  );
  signal.addEventListener('abort', () => observer.disconnect(), { once: true });
  /** @param {Element} el @param {() => void} onVisible */
  return (el, onVisible) => {
    pending.set(el, onVisible);
    observer.observe(el);
  };
}

/**
 * One class's thumbnails, a page at a time: whole rows of the grid (as many columns as fit),
 * so no page leaves a ragged last row but the class's end. Each is fetched with the key and
 * shown from a blob: URL (revoked when the page changes), and takes the keyboard focus, which
 * shows its file, size and split.
 * @param {string} datasetId @param {{ name: string, count: number }} cls
 * @param {AbortSignal} signal @param {ReturnType<typeof visibility>} whenVisible
 */
export function classGrid(datasetId, cls, signal, whenVisible) {
  const grid = h('ul', { class: 'thumbs', 'aria-label': `${cls.name} images` });
  const more = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', class: 'secondary', hidden: true }, `More ${cls.name} images`)
  );
  const shown = h('p', { class: 'hint' });
  let offset = 0;
  const columns = () => {
    const tracks = window.getComputedStyle(grid).gridTemplateColumns.split(' ').filter(Boolean);
    return Math.max(1, tracks.length);
  };
  const load = async () => {
    more.disabled = true;
    const perRow = columns();
    const limit = Math.min(200, perRow * ROWS - (offset % perRow));
    const page = await patiently(
      () =>
        api(
          `/v1/datasets/${datasetId}/images?class=${encodeURIComponent(cls.name)}&offset=${offset}&limit=${limit}`,
          { signal },
        ),
      signal,
    );
    offset += page.items.length;
    for (const image of page.items) grid.append(thumbnail(cls, image, signal));
    replace(shown, `${offset} of ${page.total} shown`);
    more.hidden = offset >= page.total;
    more.disabled = false;
  };
  /** A failure after the user left the page is not news on the next one. */
  const failed = (/** @type {unknown} */ error) => {
    more.disabled = false;
    if (!signal.aborted) fail(error);
  };
  more.addEventListener('click', () => {
    clearMessages();
    void load().catch(failed);
  });
  const section = h(
    'section',
    { class: 'class-grid', 'aria-label': `Class ${cls.name}`, 'aria-busy': 'true' },
    h('h3', null, `${cls.name} `, h('span', { class: 'hint' }, `(${cls.count})`)),
    grid,
    h('div', { class: 'actions' }, more, shown),
  );
  whenVisible(
    section,
    () =>
      void load()
        .catch(failed)
        .finally(() => section.removeAttribute('aria-busy')),
  );
  return section;
}

/**
 * @param {{ name: string }} cls
 * @param {{ path: string, split?: string, width?: number, height?: number, bytes?: number, thumbnailUrl: string }} image
 * @param {AbortSignal} signal
 */
function thumbnail(cls, image, signal) {
  const img = /** @type {HTMLImageElement} */ (
    h('img', { alt: `${cls.name}: ${image.path}`, width: 96, height: 96 })
  );
  const about = [
    image.width && image.height ? `${image.width}×${image.height}` : null,
    image.bytes ? bytes(image.bytes) : null,
    image.split ? `${image.split === 'val' ? 'validation' : 'training'} split` : null,
  ].filter(Boolean);
  queued(() => {
    signal.throwIfAborted();
    return patiently(() => imageUrl(image.thumbnailUrl, signal), signal);
  })
    .then((url) => (img.src = url))
    .catch(() => signal.aborted || img.classList.add('missing'));
  return h(
    'li',
    { tabindex: '0', title: `${image.path} (${about.join(', ')})` },
    img,
    h(
      'span',
      { class: 'thumb-caption' },
      h('span', { class: 'thumb-path' }, image.path),
      about.join(' · '),
    ),
  );
}
