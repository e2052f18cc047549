// Runs in the console's page before its scripts (page.addInitScript): what the browser test
// asks the page, kept here in plain browser JavaScript.
window.graftTest = {
  /** Every change of the job page's curves, with the job's status at that moment. */
  curveHistory: [],

  /** Form controls, meters and images without an accessible name or alt text. */
  unlabelled() {
    return [...document.querySelectorAll('input, select, textarea, button, img, meter, progress')]
      .filter((el) => {
        if (el.hidden) return false;
        if (el instanceof HTMLImageElement) return !el.alt;
        const labelled =
          el.labels?.length ||
          el.getAttribute('aria-label') ||
          el.getAttribute('aria-labelledby') ||
          (el instanceof HTMLButtonElement && el.textContent.trim());
        return !labelled;
      })
      .map((el) => el.outerHTML.slice(0, 120));
  },

  focusedId() {
    return document.activeElement?.id ?? '';
  },

  blur() {
    document.activeElement?.blur();
  },

  /** Thumbnails of a grid shown from blob: URLs that decoded as images. */
  thumbnailsShown(listLabel) {
    const grid = document.querySelector(`ul[aria-label="${listLabel}"]`);
    return [...(grid?.querySelectorAll('img') ?? [])].filter(
      (img) => img.src.startsWith('blob:') && img.complete && img.naturalWidth > 0,
    ).length;
  },

  /** The confusion matrix's counts as the page holds them. */
  matrixCounts() {
    return [...document.querySelectorAll('#confusion-matrix tbody tr')].map((row) =>
      [...row.querySelectorAll('td')].map((td) => Number(td.dataset.count)),
    );
  },

  /** A DataTransfer holding one file, for a synthetic drop. */
  fileTransfer(base64, name, type) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type }));
    return transfer;
  },
};

new MutationObserver(() => {
  const curves = document.getElementById('curves');
  const summary = document.getElementById('job-summary');
  if (!curves || !summary) return;
  const now = {
    points: Number(curves.dataset.points),
    running: Number(curves.dataset.runningPoints),
    status: summary.dataset.status ?? '',
  };
  const seen = window.graftTest.curveHistory;
  const last = seen.at(-1);
  if (
    !last ||
    last.points !== now.points ||
    last.running !== now.running ||
    last.status !== now.status
  )
    seen.push(now);
}).observe(document, {
  subtree: true,
  attributes: true,
  attributeFilter: ['data-points', 'data-running-points', 'data-status'],
});
