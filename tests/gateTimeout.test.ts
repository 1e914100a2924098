/**
 * Gate timeouts on the time-skipping test server: a day-long gate passes in moments, and the
 * run's timeout policy (approve or reject) applies.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResearchRunResult } from '../common/schemas.js';
import { prepareRun, startRun } from '../scripts/lib/runs.js';
import { progressQuery } from '../workflows/definitions.js';
import type { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { scriptedReply } from './fakes/recordedOutputs.js';
import { startScriptedLab, type ScriptedLab, type TestLab } from './helpers/temporal.js';

let env: TestWorkflowEnvironment;
let lab: TestLab;
let fake: FakeLlmServer;

let scripted: ScriptedLab;

beforeAll(async () => {
  scripted = await startScriptedLab((req) => ({ text: scriptedReply(req.prompt)! }), { timeSkipping: true });
  ({ env, lab, fake } = scripted);
});

afterAll(() => scripted?.teardown());

async function runWithGate(onTimeout: 'approve' | 'reject', id: string) {
  const { input } = await prepareRun(
    {
      task: 'reproducible-ml-pipelines',
      model: `openai-compatible:scripted-model@${fake.openaiBaseURL}`,
      gates: { stages: ['idea'], timeoutSeconds: 24 * 3600, onTimeout },
      workflowId: id,
    },
  );
  return startRun(env.client, id, input);
}

describe('gate timeout', () => {
  it('auto-approves after the timeout when the policy says approve', async () => {
    const started = await env.currentTimeMs();
    const handle = await runWithGate('approve', `gate-timeout-approve-${Date.now()}`);
    const result: ResearchRunResult = await handle.result(); // the test server skips the day
    expect(result.status).toBe('completed');
    expect((await env.currentTimeMs()) - started).toBeGreaterThanOrEqual(24 * 3600 * 1000);
    const progress = await handle.query(progressQuery);
    expect(progress.stages.every((s) => s.status === 'done')).toBe(true);
  });

  it('rejects after the timeout when the policy says reject, keeping the idea', async () => {
    const handle = await runWithGate('reject', `gate-timeout-reject-${Date.now()}`);
    const result: ResearchRunResult = await handle.result();
    expect(result).toMatchObject({ status: 'rejected', stoppedAt: 'idea' });
    expect(result.reason).toMatch(/timed out after 86400s/);
    expect(await lab.store.getText(result.artifacts.idea!)).toContain('Written by model');
  });
});
