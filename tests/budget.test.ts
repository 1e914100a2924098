/**
 * Budgets and cut-short replies at the run level: a stage is never shortened to fit what is left
 * of the budget (the run stops before it, and `lab resume` re-runs it whole), a reply cut short at
 * its output limit is continued or fails the stage (never stored as done), and a USD budget that
 * the price table cannot enforce is refused by `planRun` and by the gateway.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTINUE_PROMPT } from '../activities/llm/gateway.js';
import { resetPriceTable, unenforceableBudget } from '../activities/llm/prices.js';
import { STAGE_MAX_TOKENS } from '../activities/stages/prompts.js';
import { parseModelSpec } from '../common/modelSpec.js';
import type { Budget, ResearchRunResult, StageName } from '../common/schemas.js';
import { CliError } from '../scripts/lib/client.js';
import { planRun, prepareRun, resumeRun, startRun, viewRun } from '../scripts/lib/runs.js';
import { progressQuery } from '../workflows/definitions.js';
import type { FakeLlmServer, FakeReply, FakeRequest } from './fakes/fakeLlmServer.js';
import { recordedOutput, scriptedReply, stageOfPrompt } from './fakes/recordedOutputs.js';
import { startScriptedLab, type ScriptedLab, type TestLab } from './helpers/temporal.js';

/** The stage a request belongs to, from its first user turn (a continuation's last turn is CONTINUE_PROMPT). */
function stageOf(req: FakeRequest): StageName {
  const first = (req.body.messages as Array<{ role: string; content: string }>).find((m) => m.role === 'user');
  return stageOfPrompt(first?.content ?? '')!;
}

const isContinuation = (req: FakeRequest) => req.prompt === CONTINUE_PROMPT;

describe('budgets and cut-short replies in a research run', () => {
  let env: TestWorkflowEnvironment;
  let lab: TestLab;
  let fake: FakeLlmServer;
  let scripted: ScriptedLab;
  /** Per-test behaviour of the scripted LLM for a stage; default: the recorded output at once. */
  let behaviour: Partial<Record<StageName, (req: FakeRequest) => FakeReply>> = {};

  beforeAll(async () => {
    scripted = await startScriptedLab((req) => {
      const stage = stageOf(req);
      const first = (req.body.messages as Array<{ role: string; content: string }>).find((m) => m.role === 'user')?.content ?? '';
      return behaviour[stage]?.(req) ?? {
        text: scriptedReply(first) ?? recordedOutput(stage),
        inputTokens: 1000,
        outputTokens: 1000,
        // Like a real model asked for fewer tokens than the stage's answer needs: it stops at the limit
        // (the stage's free text; JSON steps such as queries and agent actions ask for less by design).
        truncated: !req.body.response_format && req.body.max_tokens < STAGE_MAX_TOKENS[stage],
      };
    });
    ({ env, lab, fake } = scripted);
  });

  afterAll(() => scripted?.teardown());

  const model = () => `openai-compatible:scripted@${fake.openaiBaseURL}`;

  function requestsSince(mark: number): FakeRequest[] {
    return fake.requests.slice(mark);
  }

  function callsSince(mark: number): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const r of requestsSince(mark)) counts[stageOf(r)] = (counts[stageOf(r)] ?? 0) + 1;
    return counts;
  }

  async function start(id: string, budget?: Budget) {
    const { input } = await prepareRun(
      {
        task: 'calibration-under-shift',
        model: model(),
        workflowId: id,
        stageTimeouts: { startToCloseSeconds: 60, heartbeatSeconds: 10, maxAttempts: 2 },
      },
    );
    // Set after planning, as another client could: planRun itself refuses unenforceable budgets.
    return startRun(env.client, id, { ...input, budget: budget ?? {} });
  }

  /** The ApplicationFailure a failed run's stage activity ended with. */
  async function stageFailureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const activity = (err as WorkflowFailedError).cause;
    expect(activity).toBeInstanceOf(ActivityFailure);
    expect(activity?.cause).toBeInstanceOf(ApplicationFailure);
    return activity!.cause as ApplicationFailure;
  }

  it('stops before a stage the budget cannot pay for in full, marks nothing cut short done, and resume re-runs it whole', async () => {
    behaviour = {};
    const id = `budget-full-stage-${Date.now()}`;
    const mark = fake.requests.length;
    // Each scripted call costs 2000 tokens. The idea and the literature stage's query step fit (no
    // search backend is enabled here, so that is its only call); the proposal would need its prompt
    // plus 4000 output tokens with 1000 left. Before, it was sent with max_tokens shortened to fit,
    // came back cut short and was stored as done.
    const result: ResearchRunResult = await (await start(id, { tokens: 5000 })).result();
    expect(result).toMatchObject({ status: 'budget_exhausted', stoppedAt: 'proposal' });
    expect(result.reason).toMatch(/^budget exhausted: 1000 tokens left, the next .* call needs up to \d+ \(~\d+ input \+ 4000 output tokens\)$/);
    expect(callsSince(mark)).toEqual({ idea: 1, literature: 1 });

    // The proposal stage is not done and wrote nothing (it and the rest are skipped as the run ended).
    const progress = await env.client.workflow.getHandle(id).query(progressQuery);
    expect(progress.stages.map((s) => s.status)).toEqual(['done', 'done', 'skipped', 'skipped', 'skipped']);
    expect(progress.stages[2].artifact).toBeUndefined();
    expect(Object.keys(result.artifacts)).toEqual(['idea', 'literature']);
    const view = await viewRun(env.client, id);
    expect(view.status).toBe('budget_exhausted');
    expect(Object.keys(view.memo.completed)).toEqual(['idea', 'literature']);

    // A USD budget cannot be enforced on this unpriced model: resume refuses it as lab run does.
    const refused = await resumeRun(env.client, id, { budget: { usd: 1 } }).catch((e) => e);
    expect(refused).toMatchObject({ exitCode: 2, message: expect.stringMatching(/--budget-usd needs a price/) });

    const mark2 = fake.requests.length;
    const resumed = await resumeRun(env.client, id, { budget: { tokens: 100_000 } });
    expect(resumed.reused).toEqual(['idea', 'literature']);
    const final: ResearchRunResult = await env.client.workflow.getHandle(resumed.workflowId).result();
    expect(final.status).toBe('completed');
    expect(callsSince(mark2)).toEqual({ proposal: 1, experiment: 3, paper: 1 });
    // Every free-text stage request of both runs asked for its stage's full output limit.
    for (const r of requestsSince(mark).filter((q) => !q.body.response_format)) expect(r.body.max_tokens, stageOf(r)).toBe(STAGE_MAX_TOKENS[stageOf(r)]);
  });

  it('continues a reply cut short at the full output limit and stores the joined text; the ledger has one record per call', async () => {
    behaviour = {
      proposal: (req) =>
        isContinuation(req)
          ? { text: '\n\n## Expected Outcomes & Impact\n\nThe second half of the proposal.\n', inputTokens: 3000, outputTokens: 200 }
          : { text: '# A proposal\n\n## Introduction\n\nThe first half, cut short here', inputTokens: 1000, outputTokens: 4000, truncated: true },
    };
    const id = `budget-continued-${Date.now()}`;
    const mark = fake.requests.length;
    const result: ResearchRunResult = await (await start(id)).result();
    expect(result.status).toBe('completed');
    expect(callsSince(mark)).toEqual({ idea: 1, literature: 1, proposal: 2, experiment: 3, paper: 1 });

    const proposal = await lab.store.getText(result.artifacts.proposal!);
    expect(proposal).toContain('The first half, cut short here\n\n## Expected Outcomes & Impact\n\nThe second half of the proposal.');
    const view = await viewRun(env.client, id);
    const outcome = view.memo.completed.proposal!;
    expect(outcome.calls).toHaveLength(2);
    expect(outcome.usage).toMatchObject({ llmCalls: 2, inputTokens: 4000, outputTokens: 4200 });
  });

  it('fails the stage with a non-retryable OutputTruncated when the reply is still cut short after the continuations', async () => {
    behaviour = { proposal: () => ({ text: 'on and on ', inputTokens: 100, outputTokens: 4000, truncated: true }) };
    const id = `budget-truncated-${Date.now()}`;
    const mark = fake.requests.length;
    const failure = await stageFailureOf((await start(id)).result());
    expect(failure.type).toBe('OutputTruncated');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('output limit of 4000 tokens 4 times');
    expect(failure.message).toContain('LAB_LLM_MAX_CONTINUATIONS (3 now)');
    // The first call and 3 continuations, in one attempt: not retried though maxAttempts is 2.
    expect(callsSince(mark)).toEqual({ idea: 1, literature: 1, proposal: 4 });

    const progress = await env.client.workflow.getHandle(id).query(progressQuery);
    expect(progress.stages.map((s) => s.status)).toEqual(['done', 'done', 'failed', 'pending', 'pending']);
    expect(Object.keys((await viewRun(env.client, id)).memo.completed)).toEqual(['idea', 'literature']);
  });

  it('a USD budget on a model without a price fails the run with a ConfigError before any request, whoever started it', async () => {
    behaviour = {};
    const id = `budget-unpriced-${Date.now()}`;
    const mark = fake.requests.length;
    const failure = await stageFailureOf((await start(id, { usd: 0.0001 })).result());
    expect(failure).toMatchObject({ type: 'ConfigError', nonRetryable: true });
    expect(failure.message).toContain('--budget-usd needs a price for openai-compatible:scripted@');
    expect(fake.requests.length).toBe(mark);
  });
});

describe('unenforceable USD budgets', () => {
  it('planRun refuses --budget-usd on a model without a price (exit code 2) and accepts what can be enforced', async () => {
    const cases: Array<[string, Budget]> = [
      ['openai-compatible:llama3@http://127.0.0.1:11434/v1', { usd: 0.0001 }],
      ['embedded', { usd: 0.0001 }],
      ['openai:my-unpriced-finetune', { usd: 1, tokens: 10_000 }],
    ];
    for (const [model, budget] of cases) {
      const err = await planRun({ task: 'calibration-under-shift', model, budget }).catch((e: unknown) => e);
      expect(err, model).toBeInstanceOf(CliError);
      expect((err as CliError).exitCode, model).toBe(2);
      expect((err as CliError).message, model).toMatch(/^--budget-usd needs a price for .*: use --max-tokens, or add its price with LAB_PRICES_FILE$/);
      expect((err as CliError).message, model).toContain(model);
    }
    // A priced model with a USD budget, and an unpriced one with a token budget, are fine.
    await expect(planRun({ task: 'calibration-under-shift', model: 'openai:gpt-4.1-mini', budget: { usd: 0.5 } })).resolves.toBeDefined();
    await expect(planRun({ task: 'calibration-under-shift', model: 'embedded', budget: { tokens: 10_000 } })).resolves.toBeDefined();
  });

  it('unenforceableBudget: no price and a $0 price are refused; LAB_PRICES_FILE can add the price', () => {
    const spec = parseModelSpec('openai-compatible:llama3@http://127.0.0.1:11434/v1');
    expect(unenforceableBudget(spec, undefined)).toBeUndefined();
    expect(unenforceableBudget(spec, { tokens: 100 })).toBeUndefined();
    expect(unenforceableBudget(spec, { usd: 1 })).toBe(
      `--budget-usd needs a price for ${spec.spec}; the price table lists it at $0, so no USD budget can limit it: use --max-tokens, or add its price with LAB_PRICES_FILE`,
    );
    expect(unenforceableBudget(parseModelSpec('openai:unknown-model'), { usd: 1 })).toBe(
      '--budget-usd needs a price for openai:unknown-model; none in the price table: use --max-tokens, or add its price with LAB_PRICES_FILE',
    );
    expect(unenforceableBudget(parseModelSpec('anthropic:claude-sonnet-4-5'), { usd: 1 })).toBeUndefined();

    const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-prices-'));
    const saved = process.env.LAB_PRICES_FILE;
    try {
      const file = path.join(dir, 'prices.json');
      writeFileSync(file, JSON.stringify({ 'openai-compatible:llama3': { input: 0.05, output: 0.1 } }));
      process.env.LAB_PRICES_FILE = file;
      resetPriceTable();
      expect(unenforceableBudget(spec, { usd: 1 })).toBeUndefined();
    } finally {
      if (saved === undefined) delete process.env.LAB_PRICES_FILE;
      else process.env.LAB_PRICES_FILE = saved;
      resetPriceTable();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
