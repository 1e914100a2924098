import { Context } from '@temporalio/activity';

/**
 * Heartbeats while `work` runs, so a worker that dies mid-call is noticed within the
 * heartbeat timeout instead of the (long) start-to-close timeout. `details` is read at each
 * beat, so the latest progress shows in `lab status` and the UI's pending activity.
 */
export async function withHeartbeat<T>(work: () => Promise<T>, details: () => unknown): Promise<T> {
  const ctx = Context.current();
  const timeoutMs = ctx.info.heartbeatTimeoutMs;
  const everyMs = timeoutMs ? Math.max(200, Math.min(5000, Math.floor(timeoutMs / 3))) : 5000;
  ctx.heartbeat(details());
  const timer = setInterval(() => ctx.heartbeat(details()), everyMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
