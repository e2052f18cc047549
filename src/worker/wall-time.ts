/** The abort reason of a job stopped by its wall-time limit; the job fails with its message. */
export class WallTimeExceeded extends Error {
  override name = 'WallTimeExceeded';

  constructor(seconds: number, source: string) {
    super(`stopped after its wall-time limit of ${seconds} s (${source})`);
  }
}

/** The longest delay `setTimeout` keeps (about 24.8 days); longer limits re-arm. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Aborts `controller` once `limit.maxSeconds` have passed, which stops training within a
 * batch as a cancel does. Returns what stops the clock when the run ends first.
 */
export function startWallClock(
  controller: AbortController,
  limit: { maxSeconds: number; maxSecondsSource: string },
): () => void {
  const deadline = Date.now() + limit.maxSeconds * 1000;
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const left = deadline - Date.now();
    timer = setTimeout(
      () =>
        left > LONGEST_TIMER_MS
          ? arm()
          : controller.abort(new WallTimeExceeded(limit.maxSeconds, limit.maxSecondsSource)),
      Math.min(left, LONGEST_TIMER_MS),
    );
  };
  arm();
  return () => clearTimeout(timer);
}
