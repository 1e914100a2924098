/**
 * The research workflow with mocked activities on the time-skipping test server (the cheap level
 * of the Temporal samples: no HTTP, no artifact files): what it asks its activities to do, and
 * how it keeps time, lineage and gates. Plus pure units of the CLI's run rendering.
 */
import { Worker } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArtifactRef, ResearchRunInput, StageOutcome } from '../common/schemas.js';
import { STAGES, type StageName } from '../common/stages.js';
import type { StageActivityInput } from '../activities/types.js';
import { progressQuery, reviewUpdate } from '../workflows/definitions.js';
import { researchRun } from '../workflows/researchRun.js';
import { runExitCode } from '../scripts/lib/exitCodes.js';
import { formatRun, formatStageLine, stageWorkMs } from '../scripts/lib/format.js';
import type { RunView } from '../scripts/lib/runs.js';
import { createTimeSkippingEnv, workflowBundle } from './helpers/temporal.js';

const ref = (p: string): ArtifactRef => ({ uri: `artifact:sha256/${'a'.repeat(64)}`, sha256: 'a'.repeat(64), bytes: 10, path: p, mediaType: 'text/markdown' });
const usage = (calls: number) => ({ llmCalls: calls, inputTokens: 100 * calls, outputTokens: 50 * calls, costUsd: 0.01 * calls });
const outcome = (runId: string, stage: StageName): StageOutcome => ({ artifact: ref(`runs/${runId}/${stage}.md`), extra: [], usage: usage(1), model: 'mock', calls: [] });

let env: TestWorkflowEnvironment;
const workers: Worker[] = [];
let running: Promise<void>;
const stageCalls: StageActivityInput[] = [];
const copies: Array<{ runId: string; refs: ArtifactRef[] }> = [];

/** Every activity a research run calls, mocked: stages answer at once, the experiment agent runs one command that writes a result and finishes. */
const mocks = {
  // One sandbox "host": the shared queue this test serves.
  claimSandboxHost: async () => 'sandbox',
  async runStage(input: StageActivityInput) {
    stageCalls.push(input);
    return outcome(input.runId, input.stage);
  },
  async copyArtifactsToRun(input: { runId: string; refs: ArtifactRef[] }) {
    copies.push(input);
    return input.refs;
  },
  llmPreflight: async () => [],
  envPreflight: async () => [],
  literaturePreflight: async () => ['arxiv: offline'],
  async planLiteratureSearch() {
    stageCalls.push({ stage: 'literature' } as StageActivityInput);
    return { queries: ['q'], outcome: { usage: usage(1), calls: [], model: 'mock' } };
  },
  searchLiteratureForRun: async (i: { runId: string }) => ({ candidates: ref(`runs/${i.runId}/literature/candidates.json`), count: 0, backends: [] }),
  writeRelatedWork: async (i: { runId: string }) => ({ ...outcome(i.runId, 'literature'), usage: usage(0) }),
  checkCitationsOf: async () => ({ checked: 0, verified: 0, flagged: 0, report: ref('runs/x/citations.json') }),
  async decideExperimentStep(i: { runId: string; step: number }) {
    stageCalls.push({ stage: 'experiment' } as StageActivityInput);
    const action = i.step === 1 ? { action: 'run', command: 'python main.py' } : { action: 'finish', summary: 'done' };
    return { thought: '', action, usage: usage(1), calls: [], model: 'mock' };
  },
  envStep: async () => ({ action: 'run', ok: true, exitCode: 0, text: 'ran', filesChanged: [{ path: 'results/metrics.csv', change: 'added', bytes: 30 }] }),
  collectExperimentResults: async (i: { runId: string }) => ({
    status: 'succeeded',
    results: ref(`runs/${i.runId}/results/results.md`),
    log: ref(`runs/${i.runId}/results/log.txt`),
    files: [],
    measured: [],
    provenance: { checked: 0, matched: 0, unmatched: 0 },
    steps: 1,
    commands: 0,
  }),
};

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  const bundle = await workflowBundle();
  for (const taskQueue of ['research', 'llm.openai-compatible', 'sandbox', 'literature']) {
    workers.push(await Worker.create({ connection: env.nativeConnection, taskQueue, ...(taskQueue === 'research' ? { workflowBundle: bundle } : {}), activities: mocks }));
  }
  running = Promise.all(workers.map((w) => w.run())).then(() => undefined);
});

afterAll(async () => {
  for (const w of workers) w.shutdown();
  await running;
  await env?.teardown();
});

function input(extra: Partial<ResearchRunInput> = {}): ResearchRunInput {
  return { task: { name: 't', ref: ref('runs/first/task.md') }, model: 'openai-compatible:m@http://127.0.0.1:9/v1', ...extra };
}

describe('researchRun with mocked activities', () => {
  it('a day at a gate is not counted as the stage’s working time', async () => {
    const handle = await env.client.workflow.start(researchRun, {
      taskQueue: 'research',
      workflowId: `mock-gate-${Date.now()}`,
      args: [input({ gates: { stages: ['idea'] } })],
    });
    await waitUntil(async () => (await handle.query(progressQuery)).pendingGate);
    await env.sleep('1 day');
    await handle.executeUpdate(reviewUpdate, { args: [{ action: 'approve' }] });
    await handle.result();
    const progress = await handle.query(progressQuery);
    // An unreachable literature backend is a warning, not a reason to stop.
    expect(progress.preflight).toEqual({ problems: [], warnings: ['arxiv: offline'] });
    const idea = progress.stages[0];
    expect(Date.parse(idea.finishedAt!) - Date.parse(idea.startedAt!)).toBeLessThan(60_000);
    expect(idea.workMs).toBeLessThan(60_000);
  });

  it('a resumed run copies the task and every reused output into its own folder, and sums lineage spend', async () => {
    const before = stageCalls.length;
    const reuse = { idea: outcome('first', 'idea'), literature: { ...outcome('first', 'literature'), extra: [ref('runs/first/refs.json')] } };
    const id = `first-resume1-${Date.now()}`;
    const handle = await env.client.workflow.start(researchRun, {
      taskQueue: 'research',
      workflowId: id,
      args: [input({ reuse, resumedFrom: 'first', priorUsage: usage(4) })],
    });
    await handle.result();
    expect(copies.at(-1)).toEqual({
      runId: id,
      refs: [ref('runs/first/task.md'), reuse.idea.artifact, reuse.literature.artifact, ref('runs/first/refs.json')],
    });
    expect(stageCalls.slice(before).map((c) => c.stage)).toEqual(['proposal', 'experiment', 'experiment', 'paper']);
    const progress = await handle.query(progressQuery);
    expect(progress.totals.llmCalls).toBe(4);
    expect(progress.lineageTotals).toMatchObject({ llmCalls: 8, inputTokens: 800 });
    // Literature and experiment are reused, so only the model is checked.
    expect(progress.preflight).toEqual({ problems: [], warnings: [] });
  });
});

async function waitUntil<T>(probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const v = await probe();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('condition not reached');
}

describe('run rendering (pure)', () => {
  const view = (over: Partial<RunView>): RunView => ({
    runId: 'r',
    execution: 'RUNNING',
    status: 'running',
    memo: { completed: {} },
    startTime: new Date('2026-01-01T00:00:00Z'),
    ...over,
  });

  it('exit codes say how the run ended', () => {
    expect(runExitCode(view({}))).toBe(0);
    expect(runExitCode(view({ execution: 'COMPLETED', result: { status: 'completed', artifacts: {}, totals: usage(0) } }))).toBe(0);
    expect(runExitCode(view({ execution: 'COMPLETED', result: { status: 'budget_exhausted', artifacts: {}, totals: usage(0) } }))).toBe(4);
    expect(runExitCode(view({ execution: 'COMPLETED', result: { status: 'rejected', artifacts: {}, totals: usage(0) } }))).toBe(4);
    for (const execution of ['FAILED', 'TERMINATED', 'CANCELLED', 'TIMED_OUT']) expect(runExitCode(view({ execution }))).toBe(3);
  });

  it('an experiment that produced no results is shown as failed, with its reason', () => {
    const line = formatStageLine({
      stage: 'experiment',
      status: 'done',
      runs: 1,
      usage: usage(6),
      checks: { experiment: { status: 'failed_experiment', reason: 'no result files in results/', end: 'max_steps', steps: 6, commands: 0 }, provenance: { checked: 1, matched: 0, unmatched: 1 } },
    });
    expect(line).toMatch(/^✗ experiment\s+failed_experiment/);
    expect(line).toContain('no results: no result files in results/; provenance: 1 number checked, 1 not found in any result file');
  });

  it('a running stage’s time is its earlier work plus the current run so far', () => {
    const now = Date.parse('2026-01-01T01:00:00Z');
    const s = { stage: 'idea' as const, status: 'running' as const, runs: 2, usage: usage(1), workMs: 5000, runStartedAt: '2026-01-01T00:59:50Z' };
    expect(stageWorkMs(s, now)).toBe(15_000);
    expect(stageWorkMs({ ...s, status: 'awaiting_review' }, now)).toBe(5000);
  });

  it('a closed run without a worker is drawn from its memo, with one header and the stage where it failed', () => {
    const text = formatRun(
      view({
        execution: 'FAILED',
        status: 'running', // a failed run cannot update its own status attribute
        stage: 'proposal',
        memo: { completed: { idea: outcome('r', 'idea'), literature: outcome('r', 'literature') }, spent: usage(2) },
        closeTime: new Date('2026-01-01T00:02:05Z'),
        failure: 'request rejected (400)',
      }),
      (ref) => `/store/${ref.path}`,
    );
    const lines = text.split('\n');
    expect(lines.filter((l) => l.startsWith('status '))).toEqual(['status failed  took 2m05s']);
    expect(text).toContain('failure: request rejected (400)');
    expect(lines.filter((l) => /^\s+[✓✗-]/.test(l)).map((l) => l.trim().split(/\s+/).slice(0, 3).join(' '))).toEqual([
      '✓ idea done',
      '✓ literature done',
      '✗ proposal failed',
      '- experiment skipped',
      '- paper skipped',
    ]);
    expect(text).toContain('total: 2 calls, 200+100 tokens, $0.0200');
    expect(STAGES).toHaveLength(5);
  });
});
