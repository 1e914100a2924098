/**
 * The research run on a real Temporal dev server with real activities, the OpenAI SDK and a
 * scripted OpenAI-compatible server: full run, gates (approve / revise / reject), progress,
 * memo, search attributes and history size.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResearchRunResult, RunMemo, StageName } from '../common/schemas.js';
import { STAGES } from '../common/stages.js';
import { prepareRun, queryProgress, startRun } from '../scripts/lib/runs.js';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { progressQuery, reviewUpdate } from '../workflows/definitions.js';
import type { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { scriptedReply, stageOfPrompt } from './fakes/recordedOutputs.js';
import { startScriptedLab, type ScriptedLab, type TestLab } from './helpers/temporal.js';
import { historySizeBytes, waitFor } from './helpers/wait.js';

let env: TestWorkflowEnvironment;
let lab: TestLab;
let fake: FakeLlmServer;

let scripted: ScriptedLab;

beforeAll(async () => {
  scripted = await startScriptedLab((req) => {
    const stage = stageOfPrompt(req.prompt);
    if (!stage) return { status: 400, body: { error: { message: 'unrecognised prompt' } } };
    return { text: scriptedReply(req.prompt)!, delayMs: 20 };
  });
  ({ env, lab, fake } = scripted);
});

afterAll(() => scripted?.teardown());

let counter = 0;
async function start(gates: { stages?: StageName[]; maxRevisions?: number } = {}) {
  const workflowId = `test-run-${Date.now()}-${counter++}`;
  const { input } = await prepareRun(
    {
      task: 'calibration-under-shift',
      model: `openai-compatible:scripted-model@${fake.openaiBaseURL}`,
      gates,
      workflowId,
      stageTimeouts: { startToCloseSeconds: 60, heartbeatSeconds: 10, maxAttempts: 3 },
    },
  );
  const handle = await startRun(env.client, workflowId, input);
  return handle;
}

async function waitForGate(handle: Awaited<ReturnType<typeof start>>, stage: StageName, revisionsUsed = 0) {
  return waitFor(async () => {
    const p = await handle.query(progressQuery);
    return p.pendingGate?.stage === stage && p.pendingGate.revisionsUsed === revisionsUsed ? p : undefined;
  }, `gate at ${stage}`);
}

function stageCalls(requests = fake.requests): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of requests) {
    const s = stageOfPrompt(r.prompt) ?? 'unknown';
    counts[s] = (counts[s] ?? 0) + 1;
  }
  return counts;
}

/** `LAB_RECORD_HISTORIES=1 npx vitest run tests/researchRun.test.ts` refreshes the replay test's fixtures. */
function recordHistory(name: string, history: Parameters<typeof historyToJSON>[0]): void {
  if (!process.env.LAB_RECORD_HISTORIES) return;
  // v2: the stage runners (literature steps, experiment child workflow, paper checks) and preflight;
  // the v1 fixtures stay, to prove runs recorded before those patches still replay.
  writeFileSync(path.join(__dirname, 'fixtures', `researchRun-v2-${name}.history.json`), historyToJSON(history));
}

/** The validator's message, carried as the cause of the update failure. */
async function updateError(update: Promise<unknown>): Promise<string> {
  const err = await update.then(
    () => undefined,
    (e) => e,
  );
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  return String(err.cause?.message);
}

describe('researchRun', () => {
  it('runs all five stages, stores each output as an artifact and keeps history small', async () => {
    const before = fake.requests.length;
    const handle = await start();
    const result: ResearchRunResult = await handle.result();

    expect(result.status).toBe('completed');
    expect(Object.keys(result.artifacts)).toEqual([...STAGES]);
    // idea, literature (its queries; no search backend is enabled here), proposal, 3 experiment steps, paper
    expect(stageCalls(fake.requests.slice(before))).toEqual({ idea: 1, literature: 1, proposal: 1, experiment: 3, paper: 1 });
    for (const stage of ['idea', 'proposal', 'paper'] as const) {
      const ref = result.artifacts[stage]!;
      expect(await lab.store.getText(ref)).toContain('Written by model `scripted-model`');
      expect(ref.path).toBe(`runs/${handle.workflowId}/${path.basename(ref.path)}`);
    }
    // With no literature backend, the review says so and cites nothing instead of inventing papers.
    expect(await lab.store.getText(result.artifacts.literature!)).toContain('cites nothing rather than invent papers');
    // The experiment ran in the sandbox: results.md is built from the file the code wrote.
    const results = await lab.store.getText(result.artifacts.experiment!);
    expect(result.artifacts.experiment!.path).toBe(`runs/${handle.workflowId}/results/results.md`);
    expect(results).toMatch(/### results\/metrics\.csv\n\| method \| mean_score \|\n\| --- \| --- \|\n\| baseline \| 0\.\d+ \|\n\| proposed \| 0\.\d+ \|/);
    expect(results).toContain('| 2 | `python main.py` | exit 0 |');
    expect(result.totals.llmCalls).toBe(7);
    expect(result.totals.inputTokens).toBeGreaterThan(1000);

    const progress = await handle.query(progressQuery);
    expect(progress.status).toBe('completed');
    expect(progress.stages.every((s) => s.status === 'done' && s.runs === 1)).toBe(true);
    expect(progress.stages[3].checks?.experiment).toMatchObject({ status: 'succeeded', end: 'finished', steps: 3, commands: 1 });
    expect(progress.preflight?.problems).toEqual([]);

    // History holds references to the stage outputs, never their text: far below the 256 KB target,
    // though the outputs total ~50 KB. The task's own text is in it once, in the input (by design:
    // the CLI needs no access to the store), and once more as the input of the activity that stores it.
    const history = await handle.fetchHistory();
    const bytes = historySizeBytes(history);
    expect(bytes).toBeLessThan(256 * 1024);
    const contentBytes = STAGES.reduce((n, s) => n + result.artifacts[s]!.bytes, 0);
    const taskBytes = Buffer.byteLength(readFileSync(path.join(PROJECT_ROOT, 'tasks', 'examples', 'calibration-under-shift', 'task.md'), 'utf8'));
    expect(bytes - 2 * taskBytes).toBeLessThan(contentBytes);
    recordHistory('full-run', history);
    // Each stage is labelled in the UI's event list.
    const summaries = history.events!
      .filter((e) => e.activityTaskScheduledEventAttributes || e.startChildWorkflowExecutionInitiatedEventAttributes)
      .map((e) => JSON.parse(Buffer.from(e.userMetadata!.summary!.data!).toString()));
    const model = `openai-compatible:scripted-model@${fake.openaiBaseURL}`;
    expect(summaries).toEqual(
      expect.arrayContaining([`preflight: ${model}`, 'preflight: sandbox', `idea with ${model}`, `literature with ${model}`, `proposal with ${model}`, `experiment of ${handle.workflowId} with ${model}`, `paper with ${model}`]),
    );

    const description = await handle.describe();
    const memo = (await description.memo) as unknown as RunMemo;
    expect(Object.keys(memo.completed)).toEqual([...STAGES]);
    expect(description.typedSearchAttributes.get({ name: 'LabStatus', type: 'KEYWORD' } as never)).toBe('completed');
  });

  it('waits at a gate, and approve lets the run continue', async () => {
    const handle = await start({ stages: ['idea'] });
    const progress = await waitForGate(handle, 'idea');
    expect(progress.status).toBe('awaiting_review');
    expect(progress.stages[0].status).toBe('awaiting_review');
    expect(progress.stages[1].status).toBe('pending');

    // The run is findable by status while it waits.
    await waitFor(async () => {
      for await (const w of env.client.workflow.list({ query: `LabStatus = 'awaiting_review' AND WorkflowId = '${handle.workflowId}'` })) return w;
      return undefined;
    }, 'search attribute LabStatus=awaiting_review');

    const outcome = await handle.executeUpdate(reviewUpdate, { args: [{ action: 'approve' }] });
    expect(outcome).toMatchObject({ stage: 'idea', action: 'approve', next: 'continuing with literature' });
    const result = await handle.result();
    expect(result.status).toBe('completed');
  });

  it('revise re-runs the stage with the feedback in its prompt, up to maxRevisions', async () => {
    const handle = await start({ stages: ['proposal'], maxRevisions: 1 });
    await waitForGate(handle, 'proposal');
    const before = stageCalls().proposal ?? 0;
    const outcome = await handle.executeUpdate(reviewUpdate, {
      args: [{ action: 'revise', feedback: 'Add an ablation on the temperature parameter.' }],
    });
    expect(outcome.next).toContain('revision 1 of 1');
    const progress = await waitForGate(handle, 'proposal', 1);
    expect(progress.stages[2]).toMatchObject({ runs: 2, lastFeedback: 'Add an ablation on the temperature parameter.' });
    expect((stageCalls().proposal ?? 0) - before).toBe(1);
    const revisionPrompt = fake.requests.filter((r) => stageOfPrompt(r.prompt) === 'proposal').at(-1)!.prompt;
    expect(revisionPrompt).toContain('Add an ablation on the temperature parameter.');
    expect(revisionPrompt).toContain('Your previous version');

    // The revision limit is enforced by the update validator, and the gate stays open.
    expect(await updateError(handle.executeUpdate(reviewUpdate, { args: [{ action: 'revise', feedback: 'again' }] }))).toMatch(
      /used all 1 revisions/,
    );
    await handle.executeUpdate(reviewUpdate, { args: [{ action: 'approve' }] });
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.totals.llmCalls).toBe(8);
    recordHistory('gated-revise-approve', await handle.fetchHistory());
  });

  it('reject ends the run as rejected and keeps the artifacts', async () => {
    const handle = await start({ stages: ['literature'] });
    await waitForGate(handle, 'literature');
    await handle.executeUpdate(reviewUpdate, { args: [{ action: 'reject', feedback: 'off topic' }] });
    const result = await handle.result();
    expect(result).toMatchObject({ status: 'rejected', stoppedAt: 'literature', reason: 'rejected: off topic' });
    expect(Object.keys(result.artifacts)).toEqual(['idea', 'literature']);
    expect(await lab.store.getText(result.artifacts.literature!)).toContain('literature stage');
    const progress = await handle.query(progressQuery);
    expect(progress.stages.map((s) => s.status)).toEqual(['done', 'rejected', 'skipped', 'skipped', 'skipped']);
  });

  it('refuses a review when no gate is pending and a revise without feedback', async () => {
    const handle = await start({ stages: ['paper'] });
    // Before the paper gate opens, nothing is waiting for review.
    expect(await updateError(handle.executeUpdate(reviewUpdate, { args: [{ action: 'approve' }] }))).toMatch(/no stage is waiting/);
    await waitForGate(handle, 'paper');
    expect(await updateError(handle.executeUpdate(reviewUpdate, { args: [{ action: 'revise', feedback: '  ' }] }))).toMatch(
      /revise needs feedback/,
    );
    await handle.executeUpdate(reviewUpdate, { args: [{ action: 'approve' }] });
    expect((await handle.result()).status).toBe('completed');
    // Rejected updates leave no trace in history.
    const history = await handle.fetchHistory();
    const updates = history.events!.filter((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
    expect(updates).toHaveLength(1);
  });

  it('fails with a clear non-retryable error on invalid input', async () => {
    const handle = await env.client.workflow.start('researchRun', {
      taskQueue: 'research',
      workflowId: `test-bad-input-${Date.now()}`,
      args: [{ task: { name: 'x' }, model: '' }],
    });
    await expect(handle.result()).rejects.toThrow();
    const err = await handle.result().catch((e) => e);
    expect(String(err.cause?.message)).toMatch(/invalid research run input: task: give its text .* or a stored reference/);
    expect(err.cause?.type).toBe('InvalidInput');
    expect(await queryProgress(env.client, handle.workflowId, 100)).toBeUndefined();
  });
});
