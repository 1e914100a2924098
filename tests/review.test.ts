/**
 * Reviews through Temporal and the CLI: `lab judge` on a run of ours and on a folder, two judges
 * averaged with their disagreement, a judge whose answers stay invalid failing its review clearly,
 * a judge-only benchmark over outputs laid out as MLR-Bench publishes them, and bad input refused.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResult } from '../common/benchmark.js';
import type { ReviewResult } from '../common/reviews.js';
import { loadBenchReport, startBench } from '../scripts/lib/bench.js';
import { prepareRun, startRun } from '../scripts/lib/runs.js';
import { judgeScript } from './fakes/recordedOutputs.js';
import { runLab } from './helpers/labProcesses.js';
import { startScriptedLab, tempDir, type ScriptedLab } from './helpers/temporal.js';

let t: ScriptedLab;
const dir = tempDir('review');


const model = (name: string) => `openai-compatible:${name}@${t.fake.openaiBaseURL}`;

function lab$(...args: string[]) {
  return runLab(args, { TEMPORAL_ADDRESS: t.env.address, LAB_HOME: path.join(dir, 'home'), LAB_ARTIFACT_DIR: t.lab.store.root });
}

/** A folder laid out as one MLR-Bench agent's outputs. */
function writeOutputsFolder(folder: string): void {
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, 'task.md'), '# Workshop on robust evaluation\n\nWe invite work on evaluating models under shift.\n');
  writeFileSync(path.join(folder, 'idea.md'), '# Shift-aware calibration\n\nMotivation: models are overconfident under shift. Main idea: reweight validation data.\n');
  writeFileSync(path.join(folder, 'related_work.md'), '# Related work\n\n1. Guo et al. 2017, On calibration of modern neural networks.\n');
  writeFileSync(path.join(folder, 'proposal.md'), '# Proposal\n\n## Introduction\nCalibration under shift.\n\n## Methodology\nImportance weights.\n');
}

let runId: string;

beforeAll(async () => {
  t = await startScriptedLab(judgeScript('judge-broken'));
  t.fake.models = ['agent', 'judge-a', 'judge-b', 'judge-broken'];
  const { workflowId, input } = await prepareRun(
    { task: 'calibration-under-shift', model: model('agent'), workflowId: `review-subject-${Date.now()}` },
  );
  runId = workflowId;
  await (await startRun(t.env.client, workflowId, { ...input, stopAfter: 'proposal' })).result();
}, 180_000);

afterAll(async () => {
  await t?.teardown();
});

describe('lab judge', () => {
  it('reviews a run with two judges: each judge stored, their mean and disagreement computed', async () => {
    const r = await lab$('judge', runId, '--judge', model('judge-a'), '--judge', model('judge-b'), '--kind', 'idea,proposal', '--json');
    expect(r.code, r.stderr).toBe(0);
    const outcomes = JSON.parse(r.stdout) as Array<{ kind: string; result: ReviewResult }>;
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['idea', 'proposal']);
    for (const { result } of outcomes) {
      expect(result.status).toBe('completed');
      expect(result.verdicts).toHaveLength(2);
      const [a, b] = result.verdicts;
      for (const dimension of Object.keys(a.scores)) {
        expect(result.mean![dimension]).toBeCloseTo((a.scores[dimension] + b.scores[dimension]) / 2, 3);
        expect(result.disagreement![dimension].range).toBe(Math.abs(a.scores[dimension] - b.scores[dimension]));
      }
      // Each judge's whole answer (scores and justifications) is in the run's folder, with a summary beside it.
      for (const v of result.verdicts) {
        const answer = JSON.parse(readFileSync(t.lab.store.localPath(v.artifact), 'utf8'));
        expect(answer.OverallAssessment.score).toBe(v.overall);
        expect(answer.OverallAssessment.strengths.length).toBeGreaterThan(0);
        expect(v.artifact.path).toContain(`runs/${runId}/reviews/${result.kind}/`);
      }
      expect(existsSync(t.lab.store.localPath(result.summary!))).toBe(true);
      expect(result.rubricVersion).toBe('v1');
    }
  });

  it('a judge whose answers stay invalid fails the review clearly, with no partial mean', async () => {
    const r = await lab$('judge', runId, '--judge', model('judge-a'), '--judge', model('judge-broken'), '--kind', 'idea', '--json');
    expect(r.code).toBe(3);
    const [outcome] = JSON.parse(r.stdout) as Array<{ error: string; result?: ReviewResult }>;
    expect(outcome.error).toMatch(/1 of 2 judge\(s\) gave no valid idea review/);
    expect(outcome.error).toContain('judge-broken');
    expect(outcome.result?.mean).toBeUndefined();
    expect(outcome.result?.verdicts.map((v) => v.judge)).toEqual([model('judge-a')]);
  });

  it('reviews a folder of another agent’s outputs, picking the kinds its documents allow', async () => {
    const folder = path.join(dir, 'other-agent');
    writeOutputsFolder(folder);
    const r = await lab$('judge', '--dir', folder, '--judge', model('judge-a'), '--json');
    expect(r.code, r.stderr).toBe(0);
    const outcomes = JSON.parse(r.stdout) as Array<{ kind: string; result: ReviewResult }>;
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['idea', 'proposal']);
    expect(outcomes.every((o) => o.result.status === 'completed')).toBe(true);
  });

  it('checks each judge before starting: a judge whose endpoint does not answer starts no review', async () => {
    const r = await lab$('judge', runId, '--judge', model('judge-a'), '--judge', 'openai-compatible:no-such-judge@http://127.0.0.1:1/v1', '--kind', 'idea');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/preflight found 1 problem\(s\); no review was started/);
    expect(r.stderr).toContain('no-such-judge');
    const reviews: string[] = [];
    for await (const w of t.env.client.workflow.list({ query: `WorkflowType = 'review' AND StartTime > '${new Date(Date.now() - 30_000).toISOString()}'` })) reviews.push(w.workflowId);
    expect(reviews.filter((id) => id.includes('no-such'))).toEqual([]);
  });

  it('refuses bad input with one line and exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['judge'], /either a run id or --dir/],
      [['judge', runId, '--dir', dir], /either a run id or --dir/],
      [['judge', '--dir', path.join(dir, 'missing')], /folder not found/],
      [['judge', runId, '--kind', 'poetry'], /unknown review kind "poetry"/],
      [['judge', runId, '--judge', 'nonsense:model'], /unknown model spec/],
      [['judge', runId, '--kind', 'end_to_end', '--judge', 'embedded', '--allow-uncalibrated-judge'], /lacks documents these reviews need \(end_to_end: task, paper\)/],
      [['bench', '--agent', 'embedded'], /missing --tasks/],
      [['bench', '--tasks', 'no-such-task-*', '--agent', 'embedded'], /no task matches 'no-such-task-\*'/],
      [['bench', '--tasks', 'all', '--agent', 'embedded', '--stages', 'experiment'], /--stages must be idea, idea,proposal or all/],
      [['bench', '--tasks', 'all', '--judge-only'], /--judge-only needs --outputs/],
      [['bench', 'retry'], /missing benchmark id/],
      [['bench', 'frobnicate', 'x'], /unknown bench action "frobnicate"/],
      [['bench', 'status', 'x', '--agent', 'embedded'], /--agent applies when starting a benchmark/],
      [['bench', '--tasks', 'all', '--agent', 'embedded', '--concurrency', '0'], /--concurrency must be a whole number from 1 to 256/],
    ];
    for (const [args, message] of cases) {
      const r = await lab$(...args);
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr.split('\n')[0], args.join(' ')).toMatch(message);
    }
  });
});

describe('judge-only benchmark', () => {
  it('re-judges outputs laid out as MLR-Bench publishes them, every model of every task', async () => {
    // ideas_and_proposals/<task>/{idea,proposal}/<stage>_<model>.md beside related_work.md; tasks kept apart.
    const published = path.join(dir, 'published', 'ideas_and_proposals');
    const tasks = path.join(dir, 'published-tasks');
    for (const task of ['iclr2025_alpha', 'icml2024_beta']) {
      mkdirSync(path.join(tasks, task), { recursive: true });
      writeFileSync(path.join(tasks, task, 'task.md'), `# Workshop ${task}\n\nCall for papers on ${task}.\n`);
      for (const stage of ['idea', 'proposal']) mkdirSync(path.join(published, task, stage), { recursive: true });
      writeFileSync(path.join(published, task, 'related_work.md'), '# Related work\n\nNothing yet.\n');
      for (const m of ['model-x', 'model-y']) {
        writeFileSync(path.join(published, task, 'idea', `idea_${m}.md`), `# Idea of ${m} for ${task}\n\nA plan.\n`);
        writeFileSync(path.join(published, task, 'proposal', `proposal_${m}.md`), `# Proposal of ${m} for ${task}\n\nA longer plan.\n`);
      }
    }
    const benchId = `judge-only-${Date.now()}`;
    const handle = await startBench(t.env.client, benchId, {
      tasks,
      mode: 'judge-only',
      outputs: path.dirname(published),
      judges: [model('judge-a')],
      reviews: ['idea', 'proposal'],
      concurrency: 4,
    });
    const result: BenchResult = await handle.result();
    expect(result).toMatchObject({ total: 4, done: 4, failed: 0 });
    const report = await loadBenchReport(t.env.client, benchId);
    expect(report.records).toHaveLength(4 * 2);
    expect(new Set(report.records.map((r) => r.agent))).toEqual(new Set(['model-x', 'model-y']));
  });
});
