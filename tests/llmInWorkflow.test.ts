/**
 * LLM failures inside real research runs: Temporal retries what is transient (honouring
 * Retry-After), fails at once on what is not, accounts tokens and cost per stage, and never
 * lets an API key reach history, artifacts, the call cache or the logs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResearchRunResult, StageName } from '../common/schemas.js';
import { formatActive } from '../scripts/lib/format.js';
import { prepareRun, startRun, viewRun } from '../scripts/lib/runs.js';
import { waitFor } from './helpers/wait.js';
import { progressQuery } from '../workflows/definitions.js';
import type { FakeLlmServer, FakeReply } from './fakes/fakeLlmServer.js';
import { recordedOutput, scriptedReply, stageOfPrompt } from './fakes/recordedOutputs.js';
import { quietRuntime, startScriptedLab, tempDir, type ScriptedLab, type TestLab } from './helpers/temporal.js';

const SECRET = 'sk-test-DO-NOT-LEAK-7f3a9c1e5b';
const logLines: string[] = [];
const dir = tempDir('llm-wf');
let env: TestWorkflowEnvironment;
let lab: TestLab;
let fake: FakeLlmServer;
let scripted: ScriptedLab;
/** Replies scripted per stage for the current test, consumed in order; then plain success. */
let queue: Partial<Record<StageName, FakeReply[]>> = {};
const callTimes: Array<{ stage: StageName; at: number }> = [];

beforeAll(async () => {
  // Capture every worker log line (activity and workflow loggers included) to scan for the key.
  quietRuntime(
    new DefaultLogger('DEBUG', (entry: LogEntry) => {
      logLines.push(`${entry.level} ${entry.message} ${JSON.stringify(entry.meta ?? {})}`);
    }),
  );
  scripted = await startScriptedLab(
    (req) => {
      const stage = stageOfPrompt(req.prompt)!;
      callTimes.push({ stage, at: Date.now() });
      return queue[stage]?.shift() ?? { text: scriptedReply(req.prompt)!, inputTokens: 1000, outputTokens: 1000 };
    },
    { dir, llmEnv: (f) => ({ OPENAI_API_KEY: SECRET, OPENAI_BASE_URL: f.openaiBaseURL }) },
  );
  ({ env, lab, fake } = scripted);
});

afterAll(() => scripted?.teardown());

async function run(id: string, model = 'openai:gpt-4.1-mini', reasoningEffort?: 'low' | 'medium' | 'high') {
  const { workflowId, input } = await prepareRun(
    {
      task: 'calibration-under-shift',
      model,
      reasoningEffort,
      workflowId: `${id}-${Date.now()}`,
      stageTimeouts: { startToCloseSeconds: 60, heartbeatSeconds: 10, maxAttempts: 4 },
    },
  );
  return startRun(env.client, workflowId, input);
}

type History = Awaited<ReturnType<Awaited<ReturnType<typeof run>>['fetchHistory']>>;

/** Attempts of each started activity of type `type` (default: the single-call stages), in order. */
function attemptsOf(history: History, type = 'runStage'): number[] {
  const typeOf = new Map<number, string>();
  for (const e of history.events!) {
    if (e.activityTaskScheduledEventAttributes) typeOf.set(Number(e.eventId), e.activityTaskScheduledEventAttributes.activityType!.name!);
  }
  return history.events!
    .filter((e) => e.activityTaskStartedEventAttributes && typeOf.get(Number(e.activityTaskStartedEventAttributes.scheduledEventId)) === type)
    .map((e) => e.activityTaskStartedEventAttributes!.attempt!);
}

describe('LLM errors and accounting inside a research run', () => {
  it('retries a 429 after its Retry-After and a 500, then completes with per-stage cost', async () => {
    queue = {
      idea: [{ status: 429, headers: { 'retry-after': '4' }, body: { error: { message: 'slow down' } } }],
      literature: [{ status: 500 }],
    };
    const handle = await run('retry');
    // While Temporal waits out the Retry-After, `lab status` can say why the stage is slow.
    const active = await waitFor(async () => {
      const a = (await viewRun(env.client, handle.workflowId)).activeStage;
      return a?.attempt === 2 ? a : undefined;
    }, 'the second attempt of idea');
    expect(active.lastFailure).toMatch(/rate limited \(429\), retry after 4s/);
    expect(formatActive(active)).toMatch(/^attempt 2 \(last: .*rate limited/);
    const result: ResearchRunResult = await handle.result();
    expect(result.status).toBe('completed');

    const ideaCalls = callTimes.filter((c) => c.stage === 'idea').slice(-2);
    // Temporal waited the server's 4 s, not its own 2 s initial interval.
    expect(ideaCalls[1].at - ideaCalls[0].at).toBeGreaterThanOrEqual(3900);
    const history = await handle.fetchHistory();
    // idea, proposal, paper (single-call stages); the literature stage's first LLM step took the 500.
    expect(attemptsOf(history)).toEqual([2, 1, 1]);
    expect(attemptsOf(history, 'planLiteratureSearch')).toEqual([2]);
    // Activities that call the model go to the provider's own queue.
    const llmTypes = new Set(['runStage', 'planLiteratureSearch', 'writeRelatedWork', 'llmPreflight']);
    const queues = history.events!
      .filter((e) => llmTypes.has(e.activityTaskScheduledEventAttributes?.activityType?.name ?? ''))
      .map((e) => e.activityTaskScheduledEventAttributes!.taskQueue!.name);
    expect(new Set(queues)).toEqual(new Set(['llm.openai']));

    // gpt-4.1-mini: $0.40 in / $1.60 out per 1M tokens; every scripted call is 1000 + 1000 tokens.
    const progress = await handle.query(progressQuery);
    const one = { llmCalls: 1, inputTokens: 1000, outputTokens: 1000, costUsd: 0.002 };
    // The experiment agent took three steps (write, run, finish): three calls.
    expect(progress.stages.map((s) => s.usage)).toEqual([one, one, one, { llmCalls: 3, inputTokens: 3000, outputTokens: 3000, costUsd: 0.006 }, one]);
    expect(progress.totals).toEqual({ llmCalls: 7, inputTokens: 7000, outputTokens: 7000, costUsd: 0.014 });
    expect(progress.stages[0].model).toBe('gpt-4.1-mini');

    // Each stage's result carries its call ledger, so the UI shows provider, tokens, cost and latency.
    const ideaScheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runStage')!;
    const completedEvent = history.events!.find((e) => Number(e.activityTaskCompletedEventAttributes?.scheduledEventId) === Number(ideaScheduled.eventId))!;
    const outcome = JSON.parse(Buffer.from(completedEvent.activityTaskCompletedEventAttributes!.result!.payloads![0].data!).toString());
    expect(outcome.calls).toEqual([
      expect.objectContaining({ provider: 'openai', model: 'gpt-4.1-mini', inputTokens: 1000, outputTokens: 1000, costUsd: 0.002, cached: false }),
    ]);
    expect(outcome.calls[0].latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('passes reasoning effort to OpenAI reasoning models', async () => {
    queue = {};
    const before = fake.requests.length;
    const result: ResearchRunResult = await (await run('effort', 'openai:o4-mini', 'high')).result();
    expect(result.status).toBe('completed');
    const bodies = fake.requests.slice(before).map((r) => r.body);
    expect(bodies).toHaveLength(7);
    for (const body of bodies) {
      expect(body).toMatchObject({ model: 'o4-mini', reasoning_effort: 'high' });
      expect(body.max_completion_tokens).toBeGreaterThan(0);
      expect(body.max_tokens).toBeUndefined();
    }
    // o4-mini: $1.10 in / $4.40 out per 1M tokens.
    expect(result.totals.costUsd).toBeCloseTo(7 * (1000 * 1.1 + 1000 * 4.4) / 1e6, 6);
  });

  it('retries a provider call that runs past its request timeout', async () => {
    queue = { proposal: [{ text: 'too late', delayMs: 3000 }] };
    // Read when a provider client is built; a model name not used before gets a fresh client.
    process.env.LAB_LLM_TIMEOUT_MS = '500';
    try {
      const handle = await run('timeout', 'openai:gpt-4.1-mini-2025-04-14');
      const result: ResearchRunResult = await handle.result();
      expect(result.status).toBe('completed');
      const history = await handle.fetchHistory();
      expect(attemptsOf(history)).toEqual([1, 2, 1]);
      const failed = history.events!.find((e) => e.activityTaskStartedEventAttributes?.lastFailure);
      expect(failed!.activityTaskStartedEventAttributes!.lastFailure!.applicationFailureInfo!.type).toBe('ProviderTimeout');
      expect(await lab.store.getText(result.artifacts.proposal!)).not.toContain('too late');
    } finally {
      delete process.env.LAB_LLM_TIMEOUT_MS;
    }
  });

  it('fails at once, without retrying, on a 401, naming the variable to fix', async () => {
    queue = { idea: [{ status: 401, body: { error: { message: 'Incorrect API key provided' } } }] };
    const before = callTimes.length;
    const handle = await run('auth');
    const err = await handle.result().catch((e) => e);
    const cause = err.cause?.cause;
    expect(cause?.type).toBe('AuthError');
    expect(cause?.message).toMatch(/authentication failed \(401\); check OPENAI_API_KEY/);
    expect(callTimes.length - before).toBe(1);
    expect(attemptsOf(await handle.fetchHistory())).toEqual([1]);
  });

  it('refuses at preflight, before any call, when the provider key is missing', async () => {
    const { workflowId, input } = await prepareRun(
      { task: 'calibration-under-shift', model: 'anthropic:claude-sonnet-4-5', workflowId: `nokey-${Date.now()}` },
    );
    const handle = await startRun(env.client, workflowId, input);
    const err = await handle.result().catch((e) => e);
    expect(err.cause?.type).toBe('PreflightFailed');
    expect(err.cause?.message).toMatch(/needs ANTHROPIC_API_KEY set in the worker's environment/);
  });

  it('the API key reached the provider but appears in no history, artifact, cache file or log line', async () => {
    const used = fake.requests.filter((r) => r.headers.authorization === `Bearer ${SECRET}`);
    expect(used.length).toBeGreaterThan(5);

    const leaks: string[] = [];
    for await (const w of env.client.workflow.list({ query: `WorkflowType = 'researchRun'` })) {
      const history = historyToJSON(await env.client.workflow.getHandle(w.workflowId).fetchHistory());
      if (history.includes(SECRET)) leaks.push(`history of ${w.workflowId}`);
      // Payloads are base64 in history JSON; check the decoded form too.
      if (Buffer.from(history).toString('utf8').includes(Buffer.from(SECRET).toString('base64').slice(0, 20))) {
        leaks.push(`base64 in history of ${w.workflowId}`);
      }
    }
    const walk = (folder: string): string[] =>
      readdirSync(folder).flatMap((n) => {
        const p = path.join(folder, n);
        return statSync(p).isDirectory() ? walk(p) : [p];
      });
    const files = walk(dir);
    expect(files.some((f) => f.includes(`${path.sep}llm-cache${path.sep}`))).toBe(true);
    for (const f of files) if (readFileSync(f, 'utf8').includes(SECRET)) leaks.push(f);
    expect(logLines.length).toBeGreaterThan(10);
    for (const line of logLines) if (line.includes(SECRET)) leaks.push(`log: ${line.slice(0, 200)}`);
    expect(leaks).toEqual([]);
  });
});
