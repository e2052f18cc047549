// @ts-check
import { api, ApiError, revokeObjectUrls, session, whenUnauthorised } from './api.js';
import { datasetPage, datasetsPage } from './datasets.js';
import { forgetScrollBoxes, h, replace } from './dom.js';
import { clearMessages, fail, say, sayNext } from './messages.js';
import { jobPage, jobsPage } from './jobs.js';
import { modelPage, modelsPage } from './models.js';

/*
 * The console's shell: sign-in, the navigation, messages, and routing by location hash
 * (#/datasets, #/datasets/:id, #/jobs, #/jobs/:id, #/models, #/models/:id). Each page gets an
 * AbortSignal that fires when the user leaves it (its streams and fetches stop).
 */

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
const signOutButton = /** @type {HTMLButtonElement} */ (document.getElementById('sign-out'));

/**
 * A page of one resource names its kind (for its not-found page).
 * @typedef {{ main: HTMLElement, signal: AbortSignal, params: URLSearchParams }} PageContext
 * @typedef {{ noun: string, list: string, listName: string }} Kind
 * @type {[RegExp, (ctx: PageContext, id: string) => Promise<void> | void, Kind?][]}
 */
const ROUTES = [
  [/^\/datasets$/, (ctx) => datasetsPage(ctx)],
  [
    /^\/datasets\/([^/]+)$/,
    (ctx, id) => datasetPage(ctx, id),
    { noun: 'dataset', list: '#/datasets', listName: 'Datasets' },
  ],
  [/^\/jobs$/, (ctx) => jobsPage(ctx)],
  [
    /^\/jobs\/([^/]+)$/,
    (ctx, id) => jobPage(ctx, id),
    { noun: 'job', list: '#/jobs', listName: 'Jobs' },
  ],
  [/^\/models$/, (ctx) => modelsPage(ctx)],
  [
    /^\/models\/([^/]+)$/,
    (ctx, id) => modelPage(ctx, id),
    { noun: 'model', list: '#/models', listName: 'Models' },
  ],
];

/** @param {string} text */
function decoded(text) {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Every id is a UUID: anything else is not found without asking the API. */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** @param {Kind} kind @param {string} id */
function notFound(kind, id) {
  document.title = `No such ${kind.noun} · Graft console`;
  replace(
    main,
    h('p', { class: 'crumbs' }, h('a', { href: kind.list }, kind.listName)),
    h('h1', { tabindex: '-1' }, `No such ${kind.noun}`),
    h(
      'p',
      null,
      `There is no ${kind.noun} `,
      h('code', null, id),
      ' in your account: it was deleted, or the address is wrong.',
    ),
    h('p', null, h('a', { href: kind.list }, `Back to ${kind.listName.toLowerCase()}`)),
  );
}

/** A page that could not load (the alert says why): no endless Loading…, and a way to retry. */
function failedPage() {
  document.title = 'Not loaded · Graft console';
  const retry = h('button', { type: 'button', id: 'retry' }, 'Try again');
  retry.addEventListener('click', () => void route(true));
  replace(
    main,
    h('h1', { tabindex: '-1' }, 'This page did not load'),
    h('p', null, 'The server did not answer as expected (the message above says how).'),
    h('p', null, retry),
  );
}

/**
 * Until a page shows something, it says it is loading (and main is aria-busy); the page's
 * first change of main ends that.
 */
function loading() {
  main.setAttribute('aria-busy', 'true');
  replace(main, h('p', { class: 'hint', id: 'loading' }, 'Loading…'));
  const settled = new MutationObserver(() => {
    if (main.querySelector('#loading')) return;
    main.removeAttribute('aria-busy');
    settled.disconnect();
  });
  settled.observe(main, { childList: true });
}

/** @type {AbortController | undefined} */
let leaving;

/** @param {boolean} [moveFocus] after a navigation, focus goes to the new page's heading */
async function route(moveFocus = false) {
  const hash = location.hash;
  // In-page anchors (the skip link) are not pages.
  if (hash && !hash.startsWith('#/')) return;
  leaving?.abort();
  leaving = new AbortController();
  revokeObjectUrls();
  forgetScrollBoxes();
  clearMessages();
  if (!session.key) return signInPage();
  nav.hidden = false;
  signOutButton.hidden = false;
  const [path = '/datasets', query = ''] = hash.slice(1).split('?');
  const found = ROUTES.map(([pattern, page, kind]) => ({
    match: pattern.exec(path),
    page,
    kind,
  })).find((r) => r.match);
  if (!found) {
    location.replace('#/datasets');
    return;
  }
  for (const link of nav.querySelectorAll('a')) {
    const current = path.startsWith(link.getAttribute('href')?.slice(1) ?? '-');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const ctx = { main, signal: leaving.signal, params: new URLSearchParams(query) };
  const id = decoded(found.match?.[1] ?? '');
  const kind = found.kind;
  if (kind && !UUID.test(id)) {
    main.removeAttribute('aria-busy');
    notFound(kind, id);
    if (moveFocus) main.querySelector('h1')?.focus();
    return;
  }
  loading();
  // A page's first render comes before its live part (a job's events) ends: focus then.
  const focusOnce = new MutationObserver(() => {
    const heading = main.querySelector('h1');
    if (!heading) return;
    focusOnce.disconnect();
    if (moveFocus) heading.focus();
  });
  focusOnce.observe(main, { childList: true });
  try {
    await found.page(ctx, id);
  } catch (error) {
    if (ctx.signal.aborted) return;
    if (kind && error instanceof ApiError && error.status === 404) notFound(kind, id);
    else {
      fail(error);
      failedPage();
    }
    main.removeAttribute('aria-busy');
    if (moveFocus) main.querySelector('h1')?.focus();
  } finally {
    focusOnce.disconnect();
  }
}

function signInPage() {
  nav.hidden = true;
  signOutButton.hidden = true;
  document.title = 'Sign in · Graft console';
  const input = /** @type {HTMLInputElement} */ (
    // A text field masked by CSS, not type=password: a password field in a submitted form
    // makes browsers offer to save it, and the key would outlive the tab.
    h('input', {
      id: 'api-key',
      type: 'text',
      class: 'secret',
      autocomplete: 'off',
      autocapitalize: 'off',
      required: true,
      spellcheck: 'false',
      'data-1p-ignore': true,
      'data-lpignore': 'true',
      'aria-describedby': 'api-key-help',
    })
  );
  const button = /** @type {HTMLButtonElement} */ (
    h('button', { type: 'submit', id: 'sign-in' }, 'Sign in')
  );
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'sign-in-title' },
    h('h1', { id: 'sign-in-title' }, 'Sign in'),
    h('label', { for: 'api-key' }, 'API key'),
    input,
    h(
      'p',
      { id: 'api-key-help', class: 'hint' },
      'The key ',
      h('code', null, 'npm start'),
      ' printed, or one from ',
      h('code', null, 'npm run keys:create'),
      '. It is kept in this tab only (session storage), never offered to a password manager.',
    ),
    button,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    clearMessages();
    button.disabled = true;
    // A cheap authenticated call proves the key before it is kept.
    api('/v1/datasets?limit=1', { key })
      .then(() => {
        session.signIn(key);
        sayNext('Signed in.');
        if (location.hash.startsWith('#/')) void route();
        else location.hash = '#/datasets';
      })
      .catch((/** @type {unknown} */ error) => fail(error))
      .finally(() => (button.disabled = false));
  });
  replace(main, form);
  input.focus();
}

signOutButton.addEventListener('click', () => {
  session.signOut();
  sayNext('Signed out.');
  void route();
});

// The skip link moves focus without touching the hash (which is the router's).
document.getElementById('skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

whenUnauthorised((error) => {
  session.signOut();
  void route().then(() => fail(`Signed out: ${error.message}`));
});

// A file dropped beside a drop zone would make the browser open it in place of the console.
document.addEventListener('dragover', (event) => event.preventDefault());
document.addEventListener('drop', (event) => {
  if (event.defaultPrevented) return; // a drop zone took it
  event.preventDefault();
  if (event.dataTransfer?.files.length) say('Drop the file on its box (or choose it there).');
});

window.addEventListener('hashchange', () => void route(true));
void route();
