/**
 * The research worker's workflow sandbox without the SDK's per-call timeout (workers/deadlockDetection.ts):
 * the setting, and on a real dev server, a workflow task that holds its thread longer than the limit
 * fails with the SDK's worker (the default) and completes with the one that drops the limit.
 */
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadlockDetection, WorkerWithoutDeadlockDetection, workflowWorkerClass } from '../workers/deadlockDetection.js';
import { SettingError } from '../workers/temporalConfig.js';
import { createDevServerEnv } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

describe('LAB_WORKFLOW_DEADLOCK_DETECTION', () => {
  it('is on unless set to off, and anything else is a setting error', () => {
    expect(deadlockDetection({})).toBe('on');
    expect(deadlockDetection({ LAB_WORKFLOW_DEADLOCK_DETECTION: 'on' })).toBe('on');
    expect(deadlockDetection({ LAB_WORKFLOW_DEADLOCK_DETECTION: ' OFF ' })).toBe('off');
    expect(deadlockDetection({ LAB_WORKFLOW_DEADLOCK_DETECTION: '0' })).toBe('off');
    expect(() => deadlockDetection({ LAB_WORKFLOW_DEADLOCK_DETECTION: '5s' })).toThrow(SettingError);
    expect(() => deadlockDetection({ LAB_WORKFLOW_DEADLOCK_DETECTION: '5s' })).toThrow('LAB_WORKFLOW_DEADLOCK_DETECTION must be on or off, got "5s"');
  });

  it("keeps the SDK's worker unless it is off", () => {
    expect(workflowWorkerClass({})).toBe(Worker);
    expect(workflowWorkerClass({ LAB_WORKFLOW_DEADLOCK_DETECTION: 'off' })).toBe(WorkerWithoutDeadlockDetection);
  });
});

describe('a workflow task that holds its thread past the per-call limit', () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;

  beforeAll(async () => {
    env = await createDevServerEnv();
    bundle = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./helpers/holdThreadWorkflow.ts', import.meta.url)), logger: new DefaultLogger('WARN') });
  }, 120_000);

  afterAll(async () => {
    await env?.teardown();
  });

  /** Runs `holdThread(1500)` on a worker of `workerClass` whose per-call limit is 1 s. */
  async function holdOn(workerClass: typeof Worker, taskQueue: string) {
    const worker = await workerClass.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      // Not a public option (the SDK fixes it at 5 s); shortened so the test takes seconds.
      isolateExecutionTimeout: '1s',
    } as WorkerOptions);
    const handle = await env.client.workflow.start('holdThread', { taskQueue, workflowId: `${taskQueue}-${Date.now()}`, args: [1500] });
    return { worker, handle };
  }

  it('fails the task on the SDK worker (its deadlock detection)', async () => {
    const { worker, handle } = await holdOn(Worker, 'hold-sdk');
    await worker.runUntil(async () => {
      const failure = await waitFor(async () => {
        const history = await handle.fetchHistory();
        return history.events?.find((e) => e.workflowTaskFailedEventAttributes)?.workflowTaskFailedEventAttributes?.failure?.message ?? undefined;
      }, 'a failed workflow task', 30_000);
      expect(failure).toMatch(/timed out/i);
      await handle.terminate('the test saw the task fail');
    });
  }, 60_000);

  it('completes on the worker without the limit', async () => {
    const { worker, handle } = await holdOn(WorkerWithoutDeadlockDetection, 'hold-lab');
    const result = await worker.runUntil(handle.result());
    expect(result).toBe('held 1500 ms');
    const history = await handle.fetchHistory();
    expect(history.events?.some((e) => e.workflowTaskFailedEventAttributes)).toBe(false);
  }, 60_000);
});
