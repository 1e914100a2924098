/** Test workflows for the sandbox-host wait (workflows/sandboxHost.ts): steps on one host's queue. */
import { proxyActivities, sleep } from '@temporalio/workflow';
import { onSandboxHost } from '../../workflows/sandboxHost.js';

interface HostSteps {
  holdStep(ms: number): Promise<string>;
}

function onQueue(queue: string, waitSeconds: number) {
  return proxyActivities<HostSteps>({ taskQueue: queue, startToCloseTimeout: '1m', scheduleToStartTimeout: `${waitSeconds}s`, retry: { maximumAttempts: 1 } });
}

/** Two steps on a host that runs one at a time, the second while the first holds the host past `waitSeconds`. */
export async function twoStepsOnOneSlot(queue: string, waitSeconds: number, holdMs: number): Promise<string[]> {
  const { holdStep } = onQueue(queue, waitSeconds);
  const first = onSandboxHost(queue, waitSeconds, () => holdStep(holdMs));
  // Scheduled once the first holds the host's one slot.
  await sleep('500ms');
  const second = onSandboxHost(queue, waitSeconds, () => holdStep(10));
  return Promise.all([first, second]);
}

/** One step on a host queue nobody serves. */
export async function stepOnMissingHost(queue: string, waitSeconds: number): Promise<string> {
  const { holdStep } = onQueue(queue, waitSeconds);
  return onSandboxHost(queue, waitSeconds, () => holdStep(10));
}

/** One step that heartbeats never, so the server notices within 1 s when its worker goes away, and retries it. */
export async function stepWhoseHostDies(queue: string, waitSeconds: number, holdMs: number): Promise<string> {
  const { holdStep } = proxyActivities<HostSteps>({
    taskQueue: queue,
    startToCloseTimeout: '1m',
    scheduleToStartTimeout: `${waitSeconds}s`,
    heartbeatTimeout: '1s',
    retry: { maximumAttempts: 3, initialInterval: '100ms' },
  });
  return onSandboxHost(queue, waitSeconds, () => holdStep(holdMs));
}
