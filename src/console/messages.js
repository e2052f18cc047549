// @ts-check
import { h, replace } from './dom.js';

/* The two live regions: polite news (status) and errors (alert, until dismissed or replaced). */

const statusRegion = /** @type {HTMLElement} */ (document.getElementById('status'));
const alertRegion = /** @type {HTMLElement} */ (document.getElementById('alert'));

/** Says something politely (screen readers read it when idle). @param {string} text */
export function say(text) {
  statusRegion.textContent = text;
}

/** Shows an error (a problem's detail) until the next page or the next error. @param {unknown} error */
export function fail(error) {
  const text = error instanceof Error ? error.message : String(error);
  replace(
    alertRegion,
    h('span', null, text),
    h('button', { type: 'button', class: 'link', onclick: clearAlert }, 'Dismiss'),
  );
}

export function clearAlert() {
  alertRegion.replaceChildren();
}
