/**
 * Determinism: recorded histories of real runs (tests/fixtures, refreshed with
 * LAB_RECORD_HISTORIES=1) must replay against the current workflow code. A change that
 * reorders commands, adds an activity or timer without versioning, or reads wall-clock time
 * outside the sandbox makes this fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { PRELOADED_WORKFLOW_MODULES, WORKFLOWS_PATH } from '../workers/createWorkers.js';
import { TRACING_WORKFLOW_MODULES } from '../workers/tracing.js';
import { quietRuntime, workflowBundle } from './helpers/temporal.js';

const FIXTURES = path.join(__dirname, 'fixtures');
const histories = readdirSync(FIXTURES).filter((f) => f.endsWith('.history.json'));

describe('replay of recorded research runs, reviews and benchmarks', () => {
  it('has recorded histories to replay', () => {
    expect(histories.length).toBeGreaterThanOrEqual(2);
  });

  for (const file of histories) {
    it(`replays ${file} without non-determinism`, async () => {
      quietRuntime();
      const history = JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8'));
      const id = /@(.+)\.history\.json$/.exec(file)?.[1] ?? recordedWorkflowId(history) ?? `replay-${file}`;
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, id);
    });
  }

  // Tracing adds workflow interceptors (spans, headers on every command): turning it on for a worker
  // with runs in flight must not change what those runs replay as.
  let traced: Promise<WorkflowBundleWithSourceMap> | undefined;
  for (const file of histories) {
    it(`replays ${file} with tracing's workflow interceptors bundled`, async () => {
      quietRuntime();
      traced ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, preloadModules: PRELOADED_WORKFLOW_MODULES, workflowInterceptorModules: TRACING_WORKFLOW_MODULES, logger: new DefaultLogger('WARN') });
      const history = JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8'));
      const id = /@(.+)\.history\.json$/.exec(file)?.[1] ?? recordedWorkflowId(history) ?? `replay-${file}`;
      await Worker.runReplayHistory({ workflowBundle: await traced }, history, id);
    }, 120_000);
  }

  it('detects a history that does not match the code', async () => {
    quietRuntime();
    const json = JSON.parse(readFileSync(path.join(FIXTURES, histories.find((f) => f.startsWith('researchRun'))!), 'utf8'));
    // Rename the first scheduled activity: replay must notice the mismatch.
    const scheduled = json.events.find((e: any) => e.activityTaskScheduledEventAttributes);
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'someOtherActivity';
    await expect(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, json, 'replay-tampered'),
    ).rejects.toThrow(/[Nn]ondetermin/);
  });
});

/**
 * The run's own id: child workflow ids derive from it, so replay must use the recorded one.
 * Fixtures named `<type>@<workflowId>.history.json` carry it in their name.
 */
function recordedWorkflowId(history: { events: Array<Record<string, any>> }): string | undefined {
  const child = history.events.find((e) => e.startChildWorkflowExecutionInitiatedEventAttributes);
  return child?.startChildWorkflowExecutionInitiatedEventAttributes.workflowId.replace(/-experiment(-r\d+)?$/, '');
}
