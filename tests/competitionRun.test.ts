/**
 * Competition runs end to end on a real server, workers and sandbox, with a scripted agent that
 * replaces the baseline with boosted trees: `lab compete` with several runs, a competition
 * benchmark whose MLRC reviews (with and without code) sit beside the objective scores in the
 * report, and the run's trajectory exported with the test score as its final reward.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResult } from '../common/benchmark.js';
import type { CompetitionRunResult } from '../common/competition.js';
import { loadBenchReport, startBench } from '../scripts/lib/bench.js';
import { buildReport } from '../report/buildReport.js';
import type { FakeRequest } from './fakes/fakeLlmServer.js';
import { scriptedReply } from './fakes/recordedOutputs.js';
import { runLab } from './helpers/labProcesses.js';
import { startScriptedLab, tempDir, type ScriptedLab } from './helpers/temporal.js';

const dir = tempDir('compete');
// The scorer keeps hidden test splits under LAB_HOME; keep this test's apart.
process.env.LAB_HOME = path.join(dir, 'home');
let t: ScriptedLab;

function script(req: FakeRequest) {
  const firstUser = (req.body.messages ?? []).find((m: { role: string }) => m.role === 'user');
  const prompt = typeof firstUser?.content === 'string' ? firstUser.content : req.prompt;
  const text = scriptedReply(prompt, req.system);
  return text === undefined ? { status: 400, body: { error: { message: 'no scripted answer' } } } : { text };
}

const model = (name: string) => `openai-compatible:${name}@${t.fake.openaiBaseURL}`;

function lab$(...args: string[]) {
  return runLab(args, { TEMPORAL_ADDRESS: t.env.address, LAB_ARTIFACT_DIR: t.lab.store.root });
}

beforeAll(async () => {
  t = await startScriptedLab(script, { dir });
  t.fake.models = ['agent', 'judge'];
}, 180_000);

afterAll(async () => {
  await t?.teardown();
});

describe('competition runs', () => {
  let runId: string;

  it('lab compete: the agent beats the baseline on the hidden test split, every run scored and summarised', async () => {
    const r = await lab$('compete', 'friedman-regression', '--model', model('agent'), '--runs', '2', '--json');
    expect(r.code, r.stderr).toBe(0);
    const outcomes = JSON.parse(r.stdout) as Array<{ id: string; result: CompetitionRunResult }>;
    expect(outcomes).toHaveLength(2);
    for (const { result } of outcomes) {
      expect(result.score.status, result.score.reason).toBe('scored');
      expect(result.score.split).toBe('test');
      expect(result.score.metric).toEqual({ name: 'rmse', direction: 'lower' });
      // Lower RMSE than least squares: a positive share of the gap to the reference.
      expect(result.score.score!).toBeLessThan(result.score.baseline);
      expect(result.score.relativeImprovement!).toBeGreaterThan(5);
      expect(result.score.success).toBe(true);
      expect(result.score.linesChanged).toBeGreaterThan(0);
      expect(result.experiment.steps).toBe(4);
    }
    runId = outcomes[0].id;
    // The judges' write-up holds the agent's summary and the dev run's output, never the hidden test score.
    const writeup = readFileSync(t.lab.store.localPath(outcomes[0].result.documents.paper!), 'utf8');
    expect(writeup).toContain('histogram gradient boosting');
    expect(writeup).not.toContain(String(outcomes[0].result.score.score));

    // lab status and lab show know a competition run: its score, not empty research stages.
    const status = await lab$('status', runId);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/competition run .*: scored/);
    expect(status.stdout).toMatch(/score +rmse \d+\.\d{4} on the hidden test split/);
    const show = await lab$('show', runId);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain("the agent's submission");
  });

  it('lab export gives the run as transitions whose last reward is the normalised test score', async () => {
    const out = path.join(dir, 'steps.jsonl');
    const r = await lab$('export', '--format', 'steps', runId, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(4);
    expect(lines.at(-1).done).toBe(true);
    expect(lines.at(-1).reward).toBeGreaterThan(0.05);
    expect(JSON.stringify(lines)).not.toContain(dir);
  });

  it('refuses an unknown competition and lists the shipped ones', async () => {
    const bad = await lab$('compete', 'no-such-competition', '--model', model('agent'));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no competition matches 'no-such-competition'/);
    const list = await lab$('compete', '--list', '--json');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.stdout).map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['cancer-diagnosis', 'digits-rotated', 'friedman-regression', 'sales-forecast', 'tabular-clusters']),
    );
  });

  it('a competition benchmark puts objective scores and MLRC rubric scores (with and without code) side by side', async () => {
    const benchId = `compete-bench-${Date.now()}`;
    const handle = await startBench(t.env.client, benchId, {
      tasks: 'friedman-regression',
      mode: 'competition',
      agents: [model('agent')],
      judges: [model('judge')],
      reviews: ['mlrc'],
      runs: 2,
      concurrency: 2,
    });
    const result: BenchResult = await handle.result();
    expect(result).toMatchObject({ total: 2, done: 2, failed: 0 });
    const input = await loadBenchReport(t.env.client, benchId);
    expect(input.objective).toHaveLength(2);
    expect(input.records.filter((r) => r.kind === 'mlrc')).toHaveLength(2 * 2);
    expect(new Set(input.records.map((r) => r.variant ?? 'code'))).toEqual(new Set(['code', 'no_code']));
    const report = buildReport(input);
    expect(report.objectiveAgents[0]).toMatchObject({ agent: model('agent'), tasks: 1, runs: 2, tasksSucceeded: 1 });
    const validity = report.judgesVsMetric.filter((c) => c.dimension === 'Validity');
    expect(validity.map((c) => c.variant).sort()).toEqual(['code', 'no_code']);
    expect(validity.every((c) => c.n === 2)).toBe(true);
  });
});
