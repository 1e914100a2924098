/** A run's sandbox host: claimed once, then every sandbox step of the run goes to its queue; a host that is gone is noticed. */
import { ActivityFailure, ApplicationFailure, patched, proxyActivities, TimeoutFailure } from '@temporalio/workflow';
import type { SandboxHostActivities } from '../activities/sandbox/host.js';
import { sandboxProbeQueue, TASK_QUEUES } from '../common/queues.js';

const { claimSandboxHost: claim } = proxyActivities<SandboxHostActivities>({
  taskQueue: TASK_QUEUES.sandbox,
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 10 },
  summary: 'claim a sandbox host',
});

/** How long a step may wait for its host before the host is asked whether it is still there. */
export const DEFAULT_HOST_WAIT_SECONDS = 600;
/** How long that question waits for an answer (a live host answers at once, even while busy). */
const PROBE_WAIT_SECONDS = 120;

/** The failure type of a step whose host no longer answers: its workspace is gone with it. */
export const SANDBOX_HOST_LOST = 'SandboxHostLost';

/**
 * The queue of the host the run's workspace lives on: `known` when the run already has one (a
 * continued run, a parent's host), else one claimed now. Runs recorded before hosts were claimed
 * keep the shared `sandbox` queue, so they replay.
 */
export async function sandboxQueueFor(known: string | undefined): Promise<string> {
  if (known) return known;
  if (!patched('sandbox-host-queue')) return TASK_QUEUES.sandbox;
  return claim();
}

/**
 * How long a step on `queue` waits to start before its host is checked, or undefined for no check:
 * the shared queue (any host serves it) and executions recorded before the check keep none.
 * Goes into the step's activity options as `scheduleToStartTimeout`.
 */
export function hostWaitFor(queue: string, waitSeconds: number | undefined): number | undefined {
  if (queue === TASK_QUEUES.sandbox || !patched('sandbox-host-lost')) return undefined;
  return waitSeconds ?? DEFAULT_HOST_WAIT_SECONDS;
}

function waitedTooLong(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof TimeoutFailure && err.cause.timeoutType === 'SCHEDULE_TO_START';
}

/** Whether a worker of the host behind `queue` takes a probe within the wait. */
async function hostAnswers(queue: string, waitSeconds: number): Promise<boolean> {
  const { sandboxHostAlive } = proxyActivities<SandboxHostActivities>({
    taskQueue: sandboxProbeQueue(queue),
    scheduleToStartTimeout: `${Math.ceil(Math.min(PROBE_WAIT_SECONDS, waitSeconds))}s`,
    startToCloseTimeout: '30s',
    retry: { maximumAttempts: 3 },
    summary: `is ${queue} still there?`,
  });
  try {
    await sandboxHostAlive();
    return true;
  } catch (err) {
    // Only a probe nobody picked up says the host is gone; any other failure means a worker of it took the probe.
    return !waitedTooLong(err);
  }
}

/**
 * Runs one step on the run's host. A step that waited `waitSeconds` without starting (its host busy,
 * restarting, or gone: a step that was running when its host died is retried after its heartbeat
 * timeout and waits the same way) asks the host whether it is there: a host that answers is busy
 * and the step is queued again; one that does not is lost, and the step fails as SandboxHostLost.
 * A step times out only before it starts, so it never runs twice.
 */
export async function onSandboxHost<T>(queue: string, waitSeconds: number | undefined, step: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await step();
    } catch (err) {
      if (waitSeconds === undefined || !waitedTooLong(err)) throw err;
      if (await hostAnswers(queue, waitSeconds)) continue;
      throw ApplicationFailure.create({
        type: SANDBOX_HOST_LOST,
        nonRetryable: true,
        message: `the sandbox host ${queue} is gone: a step waited ${waitSeconds} s for it and no worker of it answered a check within ${Math.min(PROBE_WAIT_SECONDS, waitSeconds)} s; the workspace it held is gone with it`,
        details: [queue],
      });
    }
  }
}

export function isSandboxHostLost(err: unknown): err is ApplicationFailure {
  return err instanceof ApplicationFailure && err.type === SANDBOX_HOST_LOST;
}
