import { Context } from '@temporalio/activity';

/** An activity done within this long sends no heartbeat at all (see withHeartbeat). */
export const FIRST_BEAT_MS = 1000;

/**
 * Heartbeats while `work` runs, so a worker that dies mid-call is noticed within the
 * heartbeat timeout instead of the (long) start-to-close timeout. `details` is read at each
 * beat, so the latest progress shows in `lab status` and the UI's pending activity.
 *
 * The first beat comes a second in, not at the start: each beat is a persistence write on the
 * server, which the many short activities of a sweep need not pay for (the server's heartbeat timer
 * runs from the activity's start anyway). A longer activity still beats early, so `lab status` can
 * tell from the missing beats that its worker is gone (scripts/lib/runs.ts workerWaitOf).
 */
export async function withHeartbeat<T>(work: () => Promise<T>, details: () => unknown): Promise<T> {
  const ctx = Context.current();
  const timeoutMs = ctx.info.heartbeatTimeoutMs;
  const everyMs = timeoutMs ? Math.max(200, Math.min(5000, Math.floor(timeoutMs / 3))) : 5000;
  let timer: NodeJS.Timeout | undefined;
  const first = setTimeout(() => {
    ctx.heartbeat(details());
    timer = setInterval(() => ctx.heartbeat(details()), everyMs);
  }, Math.min(FIRST_BEAT_MS, everyMs));
  try {
    return await work();
  } finally {
    clearTimeout(first);
    clearInterval(timer);
  }
}
