/**
 * One request at a time per backend and a minimum gap between request starts, shared by every
 * activity of this worker process (the APIs count per client: arXiv asks for one request every
 * 3 s, Semantic Scholar allows 1 per second, OpenAlex about 10). Temporal's
 * `maxTaskQueueActivitiesPerSecond` on the `literature` queue caps activities across workers.
 */
export class MinIntervalLimiter {
  private tail: Promise<void> = Promise.resolve();
  private lastStart = -Infinity;

  constructor(public minIntervalMs: number) {}

  /**
   * Runs `task` when its turn comes: after every earlier task has finished and at least
   * `minIntervalMs` after the previous one started. An aborted signal stops the wait.
   */
  run<T>(task: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const turn = this.tail.then(async () => {
      const wait = this.lastStart + this.minIntervalMs - Date.now();
      if (wait > 0) await sleep(wait, signal);
      signal?.throwIfAborted();
      this.lastStart = Date.now();
      return task();
    });
    // The next task waits for this one whatever its outcome.
    this.tail = turn.then(
      () => undefined,
      () => undefined,
    );
    return turn;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

const shared = new Map<string, MinIntervalLimiter>();

/** The process-wide limiter of a backend; its gap follows the latest configuration. */
export function sharedLimiter(name: string, minIntervalMs: number): MinIntervalLimiter {
  let limiter = shared.get(name);
  if (!limiter) shared.set(name, (limiter = new MinIntervalLimiter(minIntervalMs)));
  limiter.minIntervalMs = minIntervalMs;
  return limiter;
}
