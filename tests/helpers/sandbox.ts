/**
 * Workflows for the environment tests, bundled on their own (workflow code: no I/O here). They call
 * the env activities on the `sandbox` queue the way the experiment loop does, one step at a time.
 */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { EnvironmentActivities, EnvStepInput } from '../../activities/environment/index.js';
import type { Observation } from '../../common/environment.js';
import { TASK_QUEUES } from '../../common/queues.js';

const env = proxyActivities<EnvironmentActivities>({
  taskQueue: TASK_QUEUES.sandbox,
  startToCloseTimeout: '2m',
  heartbeatTimeout: '3s',
  retry: { maximumAttempts: 1 },
  // The workflow ends only once the activity has killed its command: the test then checks by PID.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

export type EnvTestStep = Omit<EnvStepInput, 'runId' | 'step'>;

export async function envStepsWorkflow(runId: string, steps: EnvTestStep[]): Promise<Observation[]> {
  const observations: Observation[] = [];
  for (const [i, step] of steps.entries()) observations.push(await env.envStep({ runId, step: i + 1, ...step }));
  return observations;
}

export async function envPreflightWorkflow(): Promise<string[]> {
  return env.envPreflight();
}
