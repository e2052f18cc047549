// @ts-check
import { api, revokeObjectUrls, session, whenUnauthorised } from './api.js';
import { datasetPage, datasetsPage } from './datasets.js';
import { h, replace } from './dom.js';
import { clearAlert, fail, say } from './messages.js';
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
 * @typedef {{ main: HTMLElement, signal: AbortSignal, params: URLSearchParams }} PageContext
 * @type {[RegExp, (ctx: PageContext, id: string) => Promise<void> | void][]}
 */
const ROUTES = [
  [/^\/datasets$/, (ctx) => datasetsPage(ctx)],
  [/^\/datasets\/([\w-]+)$/, (ctx, id) => datasetPage(ctx, id)],
  [/^\/jobs$/, (ctx) => jobsPage(ctx)],
  [/^\/jobs\/([\w-]+)$/, (ctx, id) => jobPage(ctx, id)],
  [/^\/models$/, (ctx) => modelsPage(ctx)],
  [/^\/models\/([\w-]+)$/, (ctx, id) => modelPage(ctx, id)],
];

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
  clearAlert();
  say('');
  if (!session.key) return signInPage();
  nav.hidden = false;
  signOutButton.hidden = false;
  const [path = '/datasets', query = ''] = hash.slice(1).split('?');
  const found = ROUTES.map(([pattern, page]) => ({ match: pattern.exec(path), page })).find(
    (r) => r.match,
  );
  if (!found) {
    location.replace('#/datasets');
    return;
  }
  for (const link of nav.querySelectorAll('a')) {
    const current = path.startsWith(link.getAttribute('href')?.slice(1) ?? '-');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  main.replaceChildren();
  const ctx = { main, signal: leaving.signal, params: new URLSearchParams(query) };
  try {
    await found.page(ctx, found.match?.[1] ?? '');
    if (moveFocus) main.querySelector('h1')?.focus();
  } catch (error) {
    if (!ctx.signal.aborted) fail(error);
  }
}

function signInPage() {
  nav.hidden = true;
  signOutButton.hidden = true;
  document.title = 'Sign in · Graft console';
  const input = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'api-key',
      name: 'api-key',
      type: 'password',
      autocomplete: 'current-password',
      required: true,
      spellcheck: 'false',
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
      '. It is kept in this tab only (session storage).',
    ),
    button,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    button.disabled = true;
    // A cheap authenticated call proves the key before it is kept.
    api('/v1/datasets?limit=1', { key })
      .then(() => {
        session.signIn(key);
        say('Signed in.');
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
  void route().then(() => say('Signed out.'));
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

window.addEventListener('hashchange', () => void route(true));
void route();
