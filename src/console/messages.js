// @ts-check
import { h, replace } from './dom.js';

/*
 * The two live regions: polite news (status) and errors (alert, until dismissed or replaced).
 * Both are cleared when a new action starts (a page, an upload, a prediction), so an old error
 * never stands next to a later success.
 */

const statusRegion = /** @type {HTMLElement} */ (document.getElementById('status'));
const alertRegion = /** @type {HTMLElement} */ (document.getElementById('alert'));

/** News for the next page (the navigation that follows would clear it at once). */
let next = '';

/** Says something politely (screen readers read it when idle). @param {string} text */
export function say(text) {
  statusRegion.textContent = text;
}

/** Says something on the page the app is about to open. @param {string} text */
export function sayNext(text) {
  next = text;
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

/** A new action starts: no old news, no old error; what sayNext kept is said now. */
export function clearMessages() {
  clearAlert();
  say(next);
  next = '';
}
