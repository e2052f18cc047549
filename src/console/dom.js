// @ts-check
/*
 * A small element builder: every value goes in as text or as a property, never as HTML, so
 * names from datasets (file paths, class names) cannot inject markup.
 */

/**
 * @typedef {string | number | Node | null | undefined | false} Child
 * @param {string} tag
 * @param {Record<string, unknown> | null} [props] attributes; `on*` functions become listeners,
 *   `class` the class name, `dataset` the data-* attributes, booleans toggle attributes
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), /** @type {EventListener} */ (value));
    } else if (key === 'class') {
      el.className = String(value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'value' || key === 'checked' || key === 'selected') {
      /** @type {any} */ (el)[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

/** @param {HTMLElement} el @param {(Child | Child[])[]} children */
export function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'object' ? child : String(child));
  }
  return el;
}

/** Replaces an element's children. @param {HTMLElement} el @param {...(Child | Child[])} children */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A share as a percentage; the sign never wraps away from its number. @param {number | null | undefined} value @param {number} [digits] */
export const pct = (value, digits = 1) =>
  value === null || value === undefined ? '—' : `${(value * 100).toFixed(digits)}\u00a0%`;

/** @param {number | null | undefined} value @param {number} [digits] */
export const num = (value, digits = 3) =>
  value === null || value === undefined ? '—' : Number(value).toFixed(digits);

/** @param {string | null | undefined} iso */
export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

/** @param {number | null | undefined} seconds */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** @param {number} bytes */
export function bytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** The first 8 characters of an id, for tables; the full id stays in the link's title. */
export const shortId = (/** @type {string} */ id) => id.slice(0, 8);

/**
 * A number to `digits` significant digits, as short as it reads (0.0040816… → 0.00408).
 * @param {number | null | undefined} value @param {number} [digits]
 */
export const sig = (value, digits = 3) =>
  value === null || value === undefined ? '—' : String(Number(Number(value).toPrecision(digits)));

let ids = 0;
/** A unique id for an element built here (captions that name their scroll region). */
export const uid = (/** @type {string} */ prefix) => `${prefix}-${++ids}`;

/**
 * Wide tables scroll inside their own box instead of widening the page. Only a box that
 * overflows becomes a focusable, named region (keyboard users scroll it with the arrow keys);
 * the others add no tab stop.
 */
const overflowing = new ResizeObserver((entries) => {
  for (const { target } of entries) {
    // A box taken out of the page (replaced) is reported once more, at size 0: let it go.
    if (!target.isConnected) {
      overflowing.unobserve(target);
      continue;
    }
    const box = /** @type {HTMLElement} */ (target);
    const scrolls = box.scrollWidth > box.clientWidth + 1;
    if (scrolls) {
      box.setAttribute('tabindex', '0');
      box.setAttribute('role', 'region');
      box.setAttribute('aria-labelledby', box.dataset.labelledby ?? '');
    } else {
      box.removeAttribute('tabindex');
      box.removeAttribute('role');
      box.removeAttribute('aria-labelledby');
    }
  }
});

/** The page changes: none of its boxes is watched any more. */
export function forgetScrollBoxes() {
  overflowing.disconnect();
}

/**
 * A table in a horizontally scrolling box, named by the table's caption when it scrolls.
 * @param {HTMLElement} tableEl a table whose caption has an id
 */
export function scrollBox(tableEl) {
  const captionId = tableEl.querySelector('caption')?.id;
  const box = h(
    'div',
    { class: 'table-scroll', dataset: { labelledby: captionId ?? '' } },
    tableEl,
  );
  overflowing.observe(box);
  return box;
}

/**
 * A table with a caption and column headers (scope=col); `rowHeader` makes each row's first
 * cell a row header. It comes in its scroll box (see scrollBox).
 * @param {string} caption
 * @param {string[]} columns
 * @param {Child[][]} rows
 * @param {{ rowHeader?: boolean, className?: string, captionHidden?: boolean }} [options]
 */
export function table(caption, columns, rows, options = {}) {
  return scrollBox(
    h(
      'table',
      { class: options.className ?? 'data' },
      h(
        'caption',
        { id: uid('caption'), class: options.captionHidden ? 'visually-hidden' : null },
        caption,
      ),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          columns.map((c) => h('th', { scope: 'col' }, c)),
        ),
      ),
      h(
        'tbody',
        null,
        rows.map((cells) => tableRow(cells, options)),
      ),
    ),
  );
}

/** @param {Child[]} cells @param {{ rowHeader?: boolean }} options */
const tableRow = (cells, options) =>
  h(
    'tr',
    null,
    cells.map((cell, i) =>
      i === 0 && options.rowHeader ? h('th', { scope: 'row' }, cell) : h('td', null, cell),
    ),
  );

/**
 * Brings a table made by `table` up to date in place: only the cells that changed are
 * replaced, so a focused link or a scrolled box stays as it was while a live page refreshes.
 * @param {HTMLElement} box what `table` returned
 * @param {string} caption @param {Child[][]} rows @param {{ rowHeader?: boolean }} [options]
 */
export function refreshTable(box, caption, rows, options = {}) {
  const captionEl = box.querySelector('caption');
  if (captionEl && captionEl.textContent !== caption) captionEl.textContent = caption;
  const body = /** @type {HTMLTableSectionElement} */ (box.querySelector('tbody'));
  rows.forEach((cells, i) => {
    const fresh = /** @type {HTMLTableRowElement} */ (tableRow(cells, options));
    const old = body.rows[i];
    if (!old) return body.append(fresh);
    [...fresh.cells].forEach((cell, j) => {
      const current = old.cells[j];
      if (!current) old.append(cell);
      else if (current.outerHTML !== cell.outerHTML) current.replaceWith(cell);
    });
  });
  while (body.rows.length > rows.length) body.rows[rows.length]?.remove();
}

/**
 * A description list whose rows are kept and updated in place (a live page redraws it on
 * every event; rebuilding it would take away the keyboard focus and re-read it to screen
 * readers).
 */
export function factList() {
  const dl = h('dl', { class: 'facts' });
  /** @type {Map<string, { dt: HTMLElement, dd: HTMLElement }>} */
  const rows = new Map();
  return {
    el: dl,
    /**
     * @param {[key: string, term: string, value: Child | Child[]][]} entries in order; a row
     *   not among them is removed
     */
    set(entries) {
      const keys = new Set(entries.map(([key]) => key));
      for (const [key, row] of rows)
        if (!keys.has(key)) {
          row.dt.remove();
          row.dd.remove();
          rows.delete(key);
        }
      /** @type {Element | null} */
      let previous = null;
      for (const [key, term, value] of entries) {
        let row = rows.get(key);
        if (!row) {
          row = { dt: h('dt'), dd: h('dd') };
          rows.set(key, row);
          const at = previous ? previous.nextSibling : dl.firstChild;
          dl.insertBefore(row.dt, at);
          dl.insertBefore(row.dd, row.dt.nextSibling);
        }
        if (row.dt.textContent !== term) row.dt.textContent = term;
        const fresh = append(h('dd'), [value]);
        if (fresh.innerHTML !== row.dd.innerHTML) row.dd.replaceChildren(...fresh.childNodes);
        else syncValues(fresh, row.dd);
        previous = row.dd;
      }
    },
  };
}

/** Values that are properties, not markup (a progress bar's), copied across. @param {Element} from @param {Element} to */
function syncValues(from, to) {
  const targets = to.querySelectorAll('progress, meter');
  from.querySelectorAll('progress, meter').forEach((el, i) => {
    const target = /** @type {HTMLProgressElement | undefined} */ (targets[i]);
    const value = /** @type {HTMLProgressElement} */ (el).value;
    if (target && target.value !== value) target.value = value;
  });
}

/**
 * A drop zone around a labelled file input: dropping a file, or choosing one, calls `onFile`.
 * The input stays a real, focusable control (keyboard users never need to drag).
 * @param {{ label: string, hint: string, accept: string, onFile: (file: File) => void }} options
 */
export function dropZone({ label, hint, accept, onFile }) {
  const id = `file-${Math.random().toString(36).slice(2, 8)}`;
  const input = /** @type {HTMLInputElement} */ (
    h('input', { type: 'file', id, accept, class: 'file-input' })
  );
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file) onFile(file);
  });
  const zone = h(
    'div',
    { class: 'drop-zone' },
    h('label', { for: id }, label),
    input,
    h('p', { class: 'hint' }, hint),
  );
  zone.addEventListener('dragover', (event) => {
    event.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    const file = event.dataTransfer?.files?.[0];
    if (file) onFile(file);
  });
  return { zone, input };
}

/** A term and its value in a description list. @param {string} term @param {Child | Child[]} value */
export const fact = (term, value) => [h('dt', null, term), h('dd', null, value)];
