/**
 * Whether the research worker limits each call into its workflow sandbox (the SDK's deadlock
 * detection, on by default) or not.
 *
 * The TypeScript SDK runs workflow code in a V8 context and enters it several times per workflow
 * task (initialise, activate, unblock conditions, conclude, ...), each time with Node's `vm`
 * timeout of 5 s. Node enforces that timeout with a watchdog thread created and joined on every
 * call (~85 µs on an idle core; under load each join waits for the new thread to be scheduled).
 * In the 201-item benchmark sweep on 2 cores, without it a workflow task took 92 ms instead of
 * 134 ms from start to completion (means of 5 runs each), the worker used ~5% less CPU and the
 * sweep finished ~3% sooner (bench/results.md).
 *
 * It stays on by default: without it, workflow code stuck in a synchronous loop holds the workflow
 * thread, and with it every workflow on this worker (with the limit, that task fails after 5 s and
 * is retried while the others go on). `LAB_WORKFLOW_DEADLOCK_DETECTION=off` is for operators who
 * run only released, replay-tested workflow code and want the shorter workflow tasks.
 */
import { Worker } from '@temporalio/worker';
import { SettingError } from './temporalConfig.js';

export const DEADLOCK_DETECTION_VAR = 'LAB_WORKFLOW_DEADLOCK_DETECTION';

/** `on` (default) or `off`, from the environment; anything else is a setting error. */
export function deadlockDetection(env: NodeJS.ProcessEnv = process.env): 'on' | 'off' {
  const raw = (env[DEADLOCK_DETECTION_VAR] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'on' || raw === '1' || raw === 'true') return 'on';
  if (raw === 'off' || raw === '0' || raw === 'false') return 'off';
  throw new SettingError(`${DEADLOCK_DETECTION_VAR} must be on or off, got "${env[DEADLOCK_DETECTION_VAR]}"`);
}

/**
 * A worker whose workflow sandbox is entered without Node's per-call timeout. The SDK's workflow
 * creator takes the limit from the compiled options and passes it to every `runInContext`; an
 * absent limit is Node's "no timeout", which needs no watchdog thread.
 */
export class WorkerWithoutDeadlockDetection extends Worker {
  protected static override createWorkflowCreator(...[bundle, compiledOptions, logger]: Parameters<(typeof Worker)['createWorkflowCreator']>) {
    return super.createWorkflowCreator(bundle, { ...compiledOptions, isolateExecutionTimeoutMs: undefined as unknown as number }, logger);
  }
}

/** The worker class for workflow queues under the given environment. */
export function workflowWorkerClass(env: NodeJS.ProcessEnv = process.env): typeof Worker {
  return deadlockDetection(env) === 'on' ? Worker : WorkerWithoutDeadlockDetection;
}
