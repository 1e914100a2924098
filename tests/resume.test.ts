/**
 * `lab resume`: a failed, terminated or out-of-budget run continues in a new, linked run that
 * reuses every finished stage's artifacts and never pays for them again.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResearchRunResult, StageName } from '../common/schemas.js';
import { CliError } from '../scripts/lib/client.js';
import { prepareRun, resumeRun, startRun, viewRun } from '../scripts/lib/runs.js';
import { progressQuery } from '../workflows/definitions.js';
import type { FakeLlmServer, FakeReply } from './fakes/fakeLlmServer.js';
import { recordedOutput, scriptedReply, stageOfPrompt } from './fakes/recordedOutputs.js';
import { startScriptedLab, type ScriptedLab, type TestLab } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

let env: TestWorkflowEnvironment;
let lab: TestLab;
let fake: FakeLlmServer;
/** Per-test behaviour of the scripted LLM for a stage; default: answer at once. */
let behaviour: Partial<Record<StageName, () => FakeReply>> = {};

let scripted: ScriptedLab;

beforeAll(async () => {
  scripted = await startScriptedLab((req) => {
    const stage = stageOfPrompt(req.prompt)!;
    return behaviour[stage]?.() ?? { text: scriptedReply(req.prompt)!, inputTokens: 1000, outputTokens: 1000 };
  });
  ({ env, lab, fake } = scripted);
});

afterAll(() => scripted?.teardown());

function callsSince(mark: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of fake.requests.slice(mark)) {
    const s = stageOfPrompt(r.prompt)!;
    counts[s] = (counts[s] ?? 0) + 1;
  }
  return counts;
}

async function start(id: string, budget?: { tokens?: number; usd?: number }) {
  const { input } = await prepareRun(
    {
      task: 'calibration-under-shift',
      model: `openai-compatible:scripted@${fake.openaiBaseURL}`,
      workflowId: id,
      budget,
      stageTimeouts: { startToCloseSeconds: 60, heartbeatSeconds: 10, maxAttempts: 2 },
    },
  );
  return startRun(env.client, id, input);
}

describe('resume', () => {
  it('a failed run resumes at the first incomplete stage and reuses the rest', async () => {
    behaviour = { proposal: () => ({ status: 400, body: { error: { message: 'context length exceeded' } } }) };
    const id = `resume-failed-${Date.now()}`;
    const first = await start(id);
    const err = await first.result().catch((e) => e);
    expect(String(err.cause?.cause?.message ?? err.cause?.message)).toMatch(/request rejected \(400\)/);
    const failed = await viewRun(env.client, id);
    expect(failed.execution).toBe('FAILED');
    expect(failed.status).toBe('failed');
    expect(Object.keys(failed.memo.completed)).toEqual(['idea', 'literature']);

    behaviour = {};
    const mark = fake.requests.length;
    const resumed = await resumeRun(env.client, id);
    expect(resumed.workflowId).toBe(`${id}-resume1`);
    expect(resumed.reused).toEqual(['idea', 'literature']);
    const result: ResearchRunResult = await env.client.workflow.getHandle(resumed.workflowId).result();
    expect(result.status).toBe('completed');
    expect(callsSince(mark)).toEqual({ proposal: 1, experiment: 3, paper: 1 });
    // The reused artifacts are the very same content.
    expect(result.artifacts.idea).toEqual(failed.memo.completed.idea!.artifact);
    const progress = await env.client.workflow.getHandle(resumed.workflowId).query(progressQuery);
    expect(progress.resumedFrom).toBe(id);
    expect(progress.stages.map((s) => s.status)).toEqual(['reused', 'reused', 'done', 'done', 'done']);
    expect(progress.totals.llmCalls).toBe(5);
    // Lineage: the two calls the failed run paid for plus this run's five (proposal, 3 experiment steps, paper).
    expect(progress.lineageTotals?.llmCalls).toBe(7);
    // The resumed run's folder holds every file, the reused ones included, byte for byte.
    const folder = lab.store.runFolder(resumed.workflowId);
    expect(readdirSync(folder)).toEqual(expect.arrayContaining(['task.md', 'idea.md', 'related_work.md', 'proposal.md', 'results', 'paper.md', 'provenance.json']));
    for (const name of ['idea.md', 'related_work.md', 'task.md']) {
      expect(readFileSync(path.join(folder, name), 'utf8')).toBe(readFileSync(path.join(lab.store.runFolder(id), name), 'utf8'));
    }
  });

  it('a terminated run resumes too; running and completed runs are refused', async () => {
    behaviour = { literature: () => ({ text: recordedOutput('literature'), delayMs: 60_000 }) };
    const id = `resume-terminated-${Date.now()}`;
    const handle = await start(id);
    await waitFor(async () => (await handle.query(progressQuery)).currentStage === 'literature' || undefined, 'literature');
    await expect(resumeRun(env.client, id)).rejects.toThrow(/still running and continues by itself/);
    await handle.terminate('operator stopped it');

    behaviour = {};
    const resumed = await resumeRun(env.client, id);
    expect(resumed.reused).toEqual(['idea']);
    const result: ResearchRunResult = await env.client.workflow.getHandle(resumed.workflowId).result();
    expect(result.status).toBe('completed');
    const refused = await resumeRun(env.client, resumed.workflowId).catch((e) => e);
    expect(refused).toBeInstanceOf(CliError);
    expect(refused.message).toMatch(/ended as completed/);
  });

  it('stops at its token budget as budget_exhausted; resume with a larger budget finishes without repeating paid calls', async () => {
    behaviour = {};
    const id = `resume-budget-${Date.now()}`;
    const mark = fake.requests.length;
    // Each scripted call costs 2000 tokens. Idea and literature fit at their full output limit
    // (literature: ~900 input + 3000 output tokens with 5000 left); the proposal (~2400 input +
    // 4000 output) does not fit in the 3000 left, and a call is never shortened to fit.
    const result: ResearchRunResult = await (await start(id, { tokens: 7000 })).result();
    expect(result).toMatchObject({ status: 'budget_exhausted', stoppedAt: 'proposal' });
    expect(result.reason).toMatch(/budget exhausted/);
    expect(result.totals.inputTokens + result.totals.outputTokens).toBe(4000);
    expect(callsSince(mark)).toEqual({ idea: 1, literature: 1 });
    const view = await viewRun(env.client, id);
    expect(view.status).toBe('budget_exhausted');

    const mark2 = fake.requests.length;
    const resumed = await resumeRun(env.client, id, { budget: { tokens: 100_000 } });
    const final: ResearchRunResult = await env.client.workflow.getHandle(resumed.workflowId).result();
    expect(final.status).toBe('completed');
    expect(callsSince(mark2)).toEqual({ proposal: 1, experiment: 3, paper: 1 });
  });
});
