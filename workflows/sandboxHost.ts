/** A run's sandbox host: claimed once, then every sandbox step of the run goes to its queue. */
import { patched, proxyActivities } from '@temporalio/workflow';
import type { SandboxHostActivities } from '../activities/sandbox/host.js';
import { TASK_QUEUES } from '../common/queues.js';

const { claimSandboxHost: claim } = proxyActivities<SandboxHostActivities>({
  taskQueue: TASK_QUEUES.sandbox,
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 10 },
  summary: 'claim a sandbox host',
});

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
