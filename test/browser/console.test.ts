import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colourDataset, multipart, photo, zip } from '../helpers/dataset-zips.js';
import { startHarness, type Harness } from '../helpers/service-harness.js';

/*
 * The web console in a real headless Chromium (Debian's `chromium`, or GRAFT_CHROMIUM) against
 * a real Graft: API, worker, PostgreSQL and Redis. Screenshots of each page land in
 * test-output/screenshots/ (not committed).
 */

const CHROMIUM = process.env.GRAFT_CHROMIUM ?? '/usr/bin/chromium';
const hasBrowser = existsSync(CHROMIUM);
if (!hasBrowser) {
  console.warn(
    `browser tests skipped: no Chromium at ${CHROMIUM} (apt install chromium, or set GRAFT_CHROMIUM)`,
  );
}

const SCREENSHOTS = join(process.cwd(), 'test-output', 'screenshots');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let h: Harness;
let key: string;
let base: string;
let browser: Browser;
let page: Page;
const scratch = mkdtempSync(join(tmpdir(), 'graft-console-'));
/** Script errors and CSP refusals seen by the page. */
const pageErrors: string[] = [];
/** Files of the console (not API calls) the browser asked for and did not get (a favicon). */
const missingFiles: string[] = [];

async function shot(name: string) {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Every form control on the page has an accessible name; every image has alt text. */
async function expectLabelledControls() {
  expect(await page.evaluate<string[]>('graftTest.unlabelled()')).toEqual([]);
}

const focused = () => page.evaluate<string>('graftTest.focusedId()');
const storedKey = () => page.evaluate<string | null>("sessionStorage.getItem('graft.apiKey')");

/** The API's answer, through the app itself (to compare with what the page shows). */
async function apiGet<T>(url: string): Promise<T> {
  const response = await h.app.inject({ url, headers: { authorization: `Bearer ${key}` } });
  expect(response.statusCode).toBe(200);
  return response.json<T>();
}

describe.skipIf(!hasBrowser)('the web console in headless Chromium', () => {
  beforeAll(async () => {
    // This run's screenshots only.
    rmSync(SCREENSHOTS, { recursive: true, force: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    h = await startHarness({ worker: true });
    key = await h.newKey('console');
    await h.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const context = await browser.newContext({
      acceptDownloads: true,
      viewport: { width: 1280, height: 900 },
    });
    page = await context.newPage();
    page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
    page.on('response', (response) => {
      const path = new URL(response.url()).pathname;
      if (response.status() >= 400 && !path.startsWith('/v1/')) missingFiles.push(path);
    });
    page.on('console', (message) => {
      // A refused key is answered 401, which Chromium also logs; that one is expected.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource'))
        pageErrors.push(`console: ${message.text()}`);
    });
    // test/browser/in-page.js: what the test asks the page, and a record of every change of
    // the job page's curves with the job's status, so the test sees what the page drew while
    // the job ran (not only at the end).
    await page.addInitScript({ path: join(import.meta.dirname, 'in-page.js') });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('serves the console at / with strict security headers, outside /v1', async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = index.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(index.headers.get('x-content-type-options')).toBe('nosniff');
    expect(index.headers.get('referrer-policy')).toBe('no-referrer');
    // No inline script: every script comes from a file.
    expect(await index.text()).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    // Bodies are read to the end: an unread one keeps its connection busy, and closing the
    // server would wait for it.
    const get = async (path: string) => {
      const response = await fetch(`${base}${path}`);
      return {
        status: response.status,
        type: response.headers.get('content-type'),
        body: await response.text(),
      };
    };
    const icon = await get('/console/favicon.svg');
    expect(icon.status).toBe(200);
    expect(icon.type).toMatch(/^image\/svg\+xml/);
    for (const path of [
      '/console/app.js',
      '/console/vendor/uPlot.esm.js',
      '/console/vendor/eventsource-parser.js',
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(200);
      expect(response.type, path).toMatch(/javascript/);
    }
    // The rest is as it was: the API needs a key, unknown paths are problems, docs and probes.
    expect((await get('/v1/datasets')).status).toBe(401);
    const missing = await get('/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.type).toMatch(/problem\+json/);
    expect((await get('/healthz')).status).toBe(200);
    // The console's routes stay out of the API document.
    const docs = await get('/docs/json');
    expect(docs.status).toBe(200);
    const { paths } = JSON.parse(docs.body) as { paths: Record<string, unknown> };
    expect(Object.keys(paths).filter((p) => p === '/' || p.startsWith('/console'))).toEqual([]);
  });

  it('signs in with the keyboard alone, and says why a wrong key is refused', async () => {
    await page.goto(`${base}/`);
    const field = page.getByLabel('API key');
    await expect.poll(() => field.isVisible()).toBe(true);
    await shot('01-sign-in');
    await expectLabelledControls();
    // Masked, but no password field: the browser must not offer to save the key.
    expect(await page.locator('input[type=password]').count()).toBe(0);
    expect(await field.getAttribute('autocomplete')).toBe('off');
    expect(
      await page.evaluate<string>(
        "getComputedStyle(document.getElementById('api-key')).webkitTextSecurity",
      ),
    ).toBe('disc');

    await page.evaluate('graftTest.blur()');
    let presses = 0;
    while ((await focused()) !== 'api-key' && presses < 6) {
      await page.keyboard.press('Tab');
      presses++;
    }
    expect(await focused()).toBe('api-key');
    await page.keyboard.type('graft_not-a-key');
    await page.keyboard.press('Tab');
    const button = page.getByRole('button', { name: 'Sign in' });
    expect(await focused()).toBe('sign-in');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/\w{4}/);
    expect(await storedKey()).toBeNull();

    await field.fill(key);
    await button.focus();
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.getByRole('heading', { level: 1, name: 'Datasets' }).isVisible())
      .toBe(true);
    expect(await storedKey()).toBe(key);
  });

  let datasetId: string;

  it('uploads the test dataset and shows its classes, report, rejected files and thumbnails', async () => {
    await shot('02-datasets');
    await expectLabelledControls();
    const zipPath = join(scratch, 'colours.zip');
    writeFileSync(zipPath, await colourDataset(6, { 'colours/red/notes.txt': 'not an image' }));
    await page.getByLabel('Dataset zip').setInputFiles(zipPath);
    await page.getByLabel('Name (optional)').fill('colours');
    await page.getByRole('button', { name: 'Upload' }).click();

    const heading = page.getByRole('heading', { level: 1, name: 'colours' });
    await expect.poll(() => heading.isVisible(), { timeout: 30_000 }).toBe(true);
    datasetId = /#\/datasets\/([\w-]+)/.exec(page.url())![1]!;
    const classes = page.getByRole('table', { name: 'Images per class' });
    expect(await classes.getByRole('row').allInnerTexts()).toEqual([
      expect.stringMatching(/^Class\s+Images\s+Share/),
      expect.stringMatching(/^blue\s+6\s+50\.0\u00a0%/),
      expect.stringMatching(/^red\s+6\s+50\.0\u00a0%/),
    ]);
    await expect
      .poll(() => page.getByRole('table', { name: 'Skipped files' }).innerText())
      .toContain('colours/red/notes.txt');
    // Six thumbnails per class, each a blob: URL that decoded as an image. A grid loads once it
    // comes near the screen.
    for (const name of ['blue', 'red']) {
      await page.getByRole('region', { name: `Class ${name}` }).scrollIntoViewIfNeeded();
      await expect
        .poll(() => page.evaluate<number>(`graftTest.thumbnailsShown('${name} images')`), {
          timeout: 20_000,
        })
        .toBe(6);
    }
    await expectLabelledControls();
    await shot('03-dataset-detail');
  });

  let jobId: string;

  it('starts a job from the form and draws its curves live over SSE as it trains', async () => {
    await page.getByRole('link', { name: 'Train a model on it' }).click();
    await expect
      .poll(() => page.getByRole('heading', { name: 'Start a job' }).isVisible())
      .toBe(true);
    expect(await page.getByLabel('Dataset').inputValue()).toBe(datasetId);
    const phase1 = page.getByRole('group', { name: 'Phase 1: head on frozen features' });
    const phase2 = page.getByRole('group', { name: 'Phase 2: fine-tuning' });
    await phase1.getByLabel('Full-batch epochs (at most)').fill('3');
    // Phase 1 trains full batch: the form has no batch size for it.
    expect(await phase1.getByLabel('Batch size').count()).toBe(0);
    expect(await phase2.getByLabel('Fine-tune the top of the base').isChecked()).toBe(true);
    // Long enough to be seen running: six fine-tuning epochs of small batches (early stopping
    // waits two epochs without progress, so at least three run).
    await phase2.getByLabel('Epochs (at most)').fill('6');
    await phase2.getByLabel('Batch size').fill('2');
    // Blue against red is separable by raw pixels: keep the transfer model, so both phases show.
    await page.getByLabel('Ship the raw-pixel baseline when it validates better').uncheck();
    await expectLabelledControls();
    await shot('04-job-form');

    const events: { status: number; type: string | null }[] = [];
    page.on('response', (response) => {
      if (/\/v1\/jobs\/[\w-]+\/events$/.test(new URL(response.url()).pathname))
        events.push({
          status: response.status(),
          type: response.headers()['content-type'] ?? null,
        });
    });
    await page.getByRole('button', { name: 'Start training' }).click();
    await expect.poll(() => /#\/jobs\/[\w-]+$/.test(page.url())).toBe(true);
    jobId = /#\/jobs\/([\w-]+)/.exec(page.url())![1]!;

    // A moment mid-run, for the screenshot: an epoch drawn, the job still running.
    const summary = page.locator('#job-summary');
    const curves = page.locator('#curves');
    const midRun = () =>
      page.evaluate<boolean>(
        `document.getElementById('job-summary')?.dataset.status === 'running' &&
         Number(document.getElementById('curves')?.dataset.points) >= 1`,
      );
    await expect.poll(midRun, { timeout: 180_000, interval: 50 }).toBe(true);
    await shot('05-job-running');
    // A keyboard user on the summary's dataset link keeps it while the page redraws live.
    await summary.getByRole('link', { name: 'colours' }).focus();
    const points = Number(await curves.getAttribute('data-points'));
    await expect
      .poll(async () => Number(await curves.getAttribute('data-points')), { timeout: 60_000 })
      .toBeGreaterThan(points);
    expect(await page.evaluate<string>("document.activeElement.getAttribute('href')")).toBe(
      `#/datasets/${datasetId}`,
    );
    await expect
      .poll(() => summary.getAttribute('data-status'), { timeout: 180_000 })
      .toBe('succeeded');

    const job = await apiGet<{ history: unknown[]; modelId: string }>(`/v1/jobs/${jobId}`);
    expect(job.history.length).toBeGreaterThanOrEqual(2);
    // The charts hold every epoch at the end, and grew while the job was running.
    await expect.poll(() => curves.getAttribute('data-points')).toBe(String(job.history.length));
    const seen =
      await page.evaluate<{ points: number; running: number; status: string }[]>(
        'graftTest.curveHistory',
      );
    const whileRunning = seen.filter((s) => s.status === 'running');
    // H1 and at least two fine-tuning epochs drawn one by one while the job ran.
    const epochCounts = [...new Set(whileRunning.map((s) => s.points).filter((n) => n > 0))];
    expect(epochCounts.length, JSON.stringify(seen)).toBeGreaterThanOrEqual(3);
    expect(epochCounts).toEqual([...epochCounts].sort((a, b) => a - b));
    expect(Math.max(...whileRunning.map((s) => s.running))).toBeGreaterThan(0);
    // Over the event stream, not by polling.
    expect(events[0]).toEqual({
      status: 200,
      type: expect.stringMatching(/^text\/event-stream/) as string,
    });
    // uPlot drew them: one canvas per chart, its series holding the epochs.
    expect(await page.locator('#loss-chart canvas').count()).toBe(1);
    expect(await page.locator('#accuracy-chart canvas').count()).toBe(1);
    // The curves say what their held-out values are (not the validation set, for fine-tuning),
    // and the final evaluation on the validation set is the report's.
    const note = await page.locator('#phase-note').innerText();
    expect(note).toContain('held-out fold of the training split');
    expect(note).toMatch(/^H1: the head/);
    expect(note).toMatch(/\nF1–F\d+: fine-tuning epochs/);
    const final = await apiGet<{ metrics: { evaluation: { accuracy: number } } }>(
      `/v1/jobs/${jobId}`,
    );
    await expect
      .poll(() => page.locator('#final-evaluation').innerText())
      .toContain(
        `Validation accuracy ${(final.metrics.evaluation.accuracy * 100).toFixed(1)}\u00a0%`,
      );
    expect(await page.locator('#accuracy-chart .u-legend').innerText()).toContain(
      'validation set (final)',
    );
    // Finished: the phase is done, the last epoch is named, and there is nothing to cancel.
    const facts = await summary.locator('dl').innerText();
    expect(facts).toMatch(/Phase\s+done/);
    expect(facts).toMatch(/Last epoch\s+F\d+ \(fine-tuning epoch/);
    expect(await page.getByRole('button', { name: 'Cancel job' }).isVisible()).toBe(false);
    await expectLabelledControls();
    await shot('06-job-finished');
  });

  it('reopens a finished job quietly: no news, no cancel button during the replay', async () => {
    await page.reload();
    const summary = page.locator('#job-summary');
    const seen: string[] = [];
    // Every status the page shows while it replays the stream, and what it announces.
    await expect
      .poll(async () => {
        seen.push((await summary.getAttribute('data-status')) ?? '');
        return page.locator('#connection').innerText();
      })
      .toMatch(/finished/);
    expect([...new Set(seen.filter(Boolean))]).toEqual(['succeeded']);
    expect(await page.getByRole('status').innerText()).toBe('');
    expect(await page.getByRole('button', { name: 'Cancel job' }).isVisible()).toBe(false);
    // On a phone the charts shrink with their cards.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect
      .poll(() => page.evaluate<number>('document.documentElement.scrollWidth'))
      .toBeLessThanOrEqual(390);
    await shot('06b-job-390px');
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it('shows the model: metrics, the confusion matrix, a prediction for a dropped image, exports', async () => {
    await page.getByRole('link', { name: /^Model / }).click();
    await expect
      .poll(() => page.getByRole('heading', { level: 1, name: /^Model / }).isVisible())
      .toBe(true);
    const modelId = /#\/models\/([\w-]+)/.exec(page.url())![1]!;
    const model = await apiGet<{
      labels: string[];
      metrics: { evaluation: { confusionMatrix: number[][] } };
    }>(`/v1/models/${modelId}`);

    // The heat map is a table of the API's counts, each cell named by its row and column.
    const matrix = page.getByRole('table', {
      name: 'Validation images: actual by predicted class',
    });
    const counts = await page.evaluate<number[][]>('graftTest.matrixCounts()');
    expect(counts).toEqual(model.metrics.evaluation.confusionMatrix);
    expect(await matrix.getByRole('columnheader').allInnerTexts()).toEqual(model.labels);
    expect(await matrix.getByRole('rowheader').allInnerTexts()).toEqual(model.labels);
    expect(await matrix.locator('td.heat').first().getAttribute('aria-label')).toMatch(
      /^actual blue, predicted blue: \d+ \(\d+\s% of blue\)$/,
    );
    await expect
      .poll(() => page.getByRole('table', { name: /^On \d+ validation images/ }).isVisible())
      .toBe(true);

    // Drop an image on the predict zone: the page shows what the API answers for it.
    const image = await photo([210, 40, 40], 999);
    const dataTransfer = await page.evaluateHandle(
      `graftTest.fileTransfer(${JSON.stringify(image.toString('base64'))}, 'red.jpg', 'image/jpeg')`,
    );
    await page
      .locator('.drop-zone')
      .filter({ hasText: 'Image to classify' })
      .dispatchEvent('drop', {
        dataTransfer,
      });
    const top = page.getByRole('table', { name: /^Top classes/ });
    await expect.poll(() => top.isVisible(), { timeout: 30_000 }).toBe(true);
    const expected = await h.app.inject({
      method: 'POST',
      url: `/v1/models/${modelId}/predict?topK=5`,
      headers: { authorization: `Bearer ${key}`, ...multipart('red.jpg', image).headers },
      payload: multipart('red.jpg', image).payload,
    });
    expect(expected.statusCode, expected.body).toBe(200);
    const answer = expected.json<{ predictions: { label: string; score: number }[] }>();
    expect(await top.getByRole('rowheader').allInnerTexts()).toEqual(
      answer.predictions.map((p) => p.label),
    );
    expect(await top.getByRole('row').nth(1).innerText()).toContain(
      `${(answer.predictions[0]!.score * 100).toFixed(1)}\u00a0%`,
    );
    await expectLabelledControls();
    await shot('07-model');

    // A phone: nothing wider than the screen (wide tables scroll in their own box), numbers
    // rounded, the header on one line.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect
      .poll(() => page.evaluate<number>('document.documentElement.scrollWidth'))
      .toBeLessThanOrEqual(390);
    const signOut = page.getByRole('button', { name: 'Sign out' });
    expect((await signOut.boundingBox())!.height).toBeLessThan(45);
    const tried = page.getByRole('table', { name: /settings, \d+-fold cross-validated/ });
    expect(await tried.innerText()).not.toMatch(/\d\.\d{5,}/);
    // The wide table's box is a named region that takes the focus (to scroll by keyboard).
    await expect
      .poll(() => page.getByRole('region', { name: /settings, \d+-fold/ }).getAttribute('tabindex'))
      .toBe('0');
    await shot('08-model-390px');
    await page.setViewportSize({ width: 1280, height: 900 });

    for (const [button, name] of [
      ['Download TF.js model', `graft-model-${modelId}.zip`],
      ['Download ONNX model', `graft-model-${modelId}-onnx.zip`],
    ] as const) {
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout: 60_000 }),
        page.getByRole('button', { name: button }).click(),
      ]);
      expect(download.suggestedFilename()).toBe(name);
      const saved = join(scratch, name);
      await download.saveAs(saved);
      // A zip: its local file header's signature.
      expect(readFileSync(saved).subarray(0, 4).toString('hex')).toBe('504b0304');
    }
  });

  it('counts a split dataset per split, and names a thumbnail that has the focus', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 7; i++) {
      const split = i < 5 ? 'train' : 'val';
      files[`${split}/red/r${i}.jpg`] = await photo([210, 40, 40], i);
      files[`${split}/blue/b${i}.jpg`] = await photo([40, 60, 210], i + 100);
    }
    const body = multipart('split.zip', await zip(files), { name: 'split colours' });
    const uploaded = await h.app.inject({
      method: 'POST',
      url: '/v1/datasets',
      headers: { authorization: `Bearer ${key}`, ...body.headers },
      payload: body.payload,
    });
    expect(uploaded.statusCode, uploaded.body).toBe(201);
    await page.goto(`${base}/#/datasets/${uploaded.json<{ id: string }>().id}`);
    await expect
      .poll(() => page.locator('#split-counts').innerText())
      .toBe('train/ and val/ as uploaded: 10 training, 4 validation images');
    await page.getByRole('region', { name: 'Class blue' }).scrollIntoViewIfNeeded();
    await expect
      .poll(() => page.evaluate<number>(`graftTest.thumbnailsShown('blue images')`))
      .toBe(7);
    const first = page.getByRole('list', { name: 'blue images' }).getByRole('listitem').first();
    await first.focus();
    const caption = first.locator('.thumb-caption');
    expect(await caption.innerText()).toMatch(
      /^train\/blue\/b0\.jpg\n48×48 · .+ · training split$/,
    );
    expect(
      await page.evaluate<string>(
        "getComputedStyle(document.activeElement.querySelector('.thumb-caption')).opacity",
      ),
    ).toBe('1');
    await shot('09-dataset-split');

    // A zip dropped beside the upload box is refused by the page (the browser would otherwise
    // open it in place of the console), which says where to drop it.
    await page.goto(`${base}/#/datasets`);
    await expect.poll(() => page.getByLabel('Dataset zip').isVisible()).toBe(true);
    const dataTransfer = await page.evaluateHandle(
      `graftTest.fileTransfer('UEs=', 'beside.zip', 'application/zip')`,
    );
    await page.getByRole('heading', { level: 1, name: 'Datasets' }).dispatchEvent('drop', {
      dataTransfer,
    });
    await expect.poll(() => page.getByRole('status').innerText()).toMatch(/^Drop the file on/);
    expect(page.url()).toBe(`${base}/#/datasets`);
  });

  it('asks before cancelling a job, and keeps the keyboard focus on the page after', async () => {
    // Long enough to cancel while it runs: many fine-tuning epochs at batch size 1.
    const created = await h.app.inject({
      method: 'POST',
      url: '/v1/jobs',
      headers: { authorization: `Bearer ${key}` },
      payload: {
        datasetId,
        fineTuning: { enabled: true, epochs: 100, batchSize: 1, patience: 100 },
      },
    });
    expect(created.statusCode).toBe(202);
    const slowId = created.json<{ id: string }>().id;
    await page.goto(`${base}/#/jobs/${slowId}`);
    const cancel = page.getByRole('button', { name: 'Cancel job' });
    await expect.poll(() => cancel.isVisible()).toBe(true);
    await cancel.focus();
    await page.keyboard.press('Enter');
    // A question, focus on the safe answer; Escape takes it back.
    expect(await page.getByRole('group', { name: /^Cancel this job\?/ }).isVisible()).toBe(true);
    expect(await focused()).toBe('cancel-no');
    await page.keyboard.press('Escape');
    expect(await focused()).toBe('cancel-job');
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Yes, cancel the job' }).focus();
    await page.keyboard.press('Enter');
    // A queued job is cancelled at once, a running one within seconds: either way the buttons
    // go, and the focus is on the job's heading, not lost to the body.
    await expect
      .poll(() => page.getByRole('status').innerText())
      .toMatch(/^(Cancel requested|Job cancelled\.)/);
    expect(await focused()).toBe('job-title');
    await shot('09-job-cancelling');
    await expect
      .poll(() => page.locator('#job-summary').getAttribute('data-status'), { timeout: 60_000 })
      .toBe('cancelled');
    await expect.poll(() => page.getByRole('status').innerText()).toBe('Job cancelled.');
  });

  it('lists the jobs and the models, each linking to its page', async () => {
    await page.goto(`${base}/#/jobs`);
    const jobs = page.getByRole('table', { name: /^\d+ jobs?, newest first$/ });
    await expect.poll(() => jobs.isVisible()).toBe(true);
    expect(await jobs.getByRole('link', { name: jobId.slice(0, 8) }).getAttribute('href')).toBe(
      `#/jobs/${jobId}`,
    );
    await shot('11-jobs');
    await page.evaluate("location.hash = '#/models'");
    const models = page.getByRole('table', { name: /^\d+ models?, newest first$/ });
    await expect.poll(() => models.isVisible()).toBe(true);
    expect(await models.getByRole('row').count()).toBeGreaterThanOrEqual(2);
    await expectLabelledControls();
    await shot('12-models');
  });

  it('shows a page that did not load as such, with a way to try again', async () => {
    // The browser is answered 503 once, as a busy API would.
    await page.route('**/v1/models?limit=100', (route) =>
      route.fulfill({
        status: 503,
        headers: { 'content-type': 'application/problem+json', 'retry-after': '1' },
        body: JSON.stringify({ title: 'Service Unavailable', detail: 'the database is away' }),
      }),
    );
    await page.evaluate("location.hash = '#/jobs'");
    await page.evaluate("location.hash = '#/models'");
    const heading = page.getByRole('heading', { level: 1, name: 'This page did not load' });
    await expect.poll(() => heading.isVisible()).toBe(true);
    expect(await page.getByRole('alert').innerText()).toContain('the database is away');
    expect(await page.locator('#loading').count()).toBe(0);
    await page.unroute('**/v1/models?limit=100');
    await page.getByRole('button', { name: 'Try again' }).click();
    await expect
      .poll(() => page.getByRole('heading', { level: 1, name: 'Models' }).isVisible())
      .toBe(true);
    expect(await page.getByRole('alert').innerText()).toBe('');
  });

  it('says a missing dataset or job is not found, with a way back', async () => {
    await page.goto(`${base}/#/datasets/nope`);
    await expect
      .poll(() => page.getByRole('heading', { level: 1, name: 'No such dataset' }).isVisible())
      .toBe(true);
    expect(await page.getByRole('alert').innerText()).toBe('');
    expect(await page.getByRole('link', { name: 'Back to datasets' }).getAttribute('href')).toBe(
      '#/datasets',
    );
    await page.goto(`${base}/#/jobs/00000000-0000-4000-8000-000000000000`);
    await expect
      .poll(() => page.getByRole('heading', { level: 1, name: 'No such job' }).isVisible())
      .toBe(true);
    expect(await page.getByRole('link', { name: 'Back to jobs' }).isVisible()).toBe(true);
    await shot('10-not-found');
  });

  it('signs out once when the key stops working, saying why in the API’s words', async () => {
    // A key the server does not know, as a revoked one: the jobs page makes calls in parallel,
    // each refused; the first refusal's detail is what the page says.
    await page.evaluate("sessionStorage.setItem('graft.apiKey', 'graft_revoked-key')");
    await page.evaluate("location.hash = '#/jobs'");
    await expect.poll(() => page.getByLabel('API key').isVisible()).toBe(true);
    await expect
      .poll(() => page.getByRole('alert').innerText())
      .toMatch(/^Signed out: this API key is not valid/);
    expect(await storedKey()).toBeNull();
  });

  it('saw no script error, no refused resource (CSP) and no missing file on any page', () => {
    expect(pageErrors).toEqual([]);
    expect(missingFiles).toEqual([]);
  });
});
