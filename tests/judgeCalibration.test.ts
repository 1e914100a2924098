/**
 * Embedded judging is labelled: `lab judge` and `lab bench` refuse an embedded judge without
 * --allow-uncalibrated-judge (exit 2, one line, before connecting to Temporal), go on with it, and
 * every review an embedded judge writes says it is not calibrated (verdict, summary.json, terminal).
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../activities/store/localStore.js';
import { PROJECT_ROOT } from '../activities/config.js';
import { createJudgeActivities, uncalibratedMark } from '../activities/judge/index.js';
import { loadRubric } from '../activities/judge/rubrics.js';
import type { LlmGateway } from '../activities/llm/gateway.js';
import { isEmbeddedJudge, UNCALIBRATED_NOTE } from '../common/judgeCalibration.js';
import type { JudgeVerdict, ReviewResult } from '../common/reviews.js';
import { formatOutcomes } from '../scripts/commands/judge.js';

let tmp: string;
let folder: string;

beforeAll(() => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'lab-calibration-'));
  folder = path.join(tmp, 'outputs');
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'task.md'), '# Workshop on Reliable Uncertainty\n');
  writeFileSync(path.join(folder, 'idea.md'), '# Shift-Aware Temperature Scaling\n');
});

afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** `lab` with a Temporal address nothing listens on: a refusal must come before any connection. */
function lab(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs'), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: '127.0.0.1:1', LAB_HOME: path.join(tmp, 'lab') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr })));
}

const REFUSAL = /^lab (judge|bench): --judge embedded is an embedded judge, and no model of this size judges meaningfully .*pass --allow-uncalibrated-judge to run it anyway/;

describe('lab judge / lab bench with an embedded judge', () => {
  it('refuses it without --allow-uncalibrated-judge: exit 2, one line naming the flag, before connecting', async () => {
    const results = await Promise.all([
      lab('judge', '--dir', folder, '--judge', 'embedded'),
      lab('judge', 'some-run', '--judge', 'openai:gpt-4.1-mini', '--judge', 'embedded', '--kind', 'idea'),
      lab('bench', '--tasks', 'all', '--agent', 'openai:gpt-4.1-mini', '--judge', 'embedded'),
      lab('bench', '--tasks', 'all', '--judge-only', '--outputs', folder, '--judge', 'embedded'),
    ]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr.trim()).toMatch(REFUSAL);
      expect(r.stdout).toBe('');
    }
  }, 60_000);

  it('goes on with the flag (here to the missing Temporal server), and the flag is only for starting a benchmark', async () => {
    const [judge, bench, status] = await Promise.all([
      lab('judge', '--dir', folder, '--judge', 'embedded', '--allow-uncalibrated-judge'),
      lab('bench', '--tasks', 'all', '--agent', 'openai:gpt-4.1-mini', '--judge', 'embedded', '--allow-uncalibrated-judge'),
      lab('bench', 'status', 'some-bench', '--allow-uncalibrated-judge'),
    ]);
    for (const r of [judge, bench]) {
      expect(r.stderr).not.toMatch(/no model of this size/);
      expect(r.stderr.trim()).toMatch(/^lab (judge|bench): cannot reach Temporal at 127\.0\.0\.1:1/);
    }
    expect(status.code).toBe(2);
    expect(status.stderr).toMatch(/^lab bench: --allow-uncalibrated-judge applies when starting a benchmark, not to status/);
    // The help names the flag.
    const help = await lab('judge', '--help');
    expect(help.stdout + help.stderr).toContain('--allow-uncalibrated-judge');
  }, 60_000);
});

describe('reviews by an embedded judge', () => {
  const rubric = loadRubric('idea');
  const answer: Record<string, unknown> = Object.fromEntries(rubric.dimensions.map((d) => [d.name, { score: 6, justification: 'The idea is stated.' }]));
  answer[rubric.overall!.name] = { score: 6, justification: 'Fine.', strengths: ['clear'], weaknesses: ['untested'] };

  /** A gateway stand-in that answers as `model` did (the judge activity only needs completeJson). */
  const llmAnswering = (model: string) =>
    ({
      completeJson: async () => ({
        text: JSON.stringify(answer),
        value: answer,
        calls: [{ provider: model.split(':')[0], model, inputTokens: 900, outputTokens: 200, costUsd: 0, latencyMs: 5, cached: false, truncated: false }],
      }),
    }) as unknown as LlmGateway;

  const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> =>
    new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(fn, ...args);

  async function review(judge: string, model: string, reviewId: string): Promise<{ verdict: JudgeVerdict; summary: Record<string, unknown>; latest: Record<string, unknown> }> {
    const store = new LocalArtifactStore(path.join(tmp, 'artifacts'));
    const activities = createJudgeActivities({ store, llm: llmAnswering(model) });
    const storeId = `run-${reviewId}`;
    const documents = {
      task: await store.put(storeId, 'inputs/task.md', '# Workshop on Reliable Uncertainty\n'),
      idea: await store.put(storeId, 'inputs/idea.md', '# Shift-Aware Temperature Scaling\n'),
      code: [],
      figures: [],
    };
    const verdict = await run(activities.judgeReview, { reviewId, storeId, kind: 'idea', withCode: true, judge, documents });
    const result: ReviewResult = { reviewId, kind: 'idea', rubricVersion: verdict.rubricVersion, status: 'completed', subject: storeId, verdicts: [verdict], failures: [], usage: verdict.usage };
    const ref = await run(activities.writeReviewSummary, { storeId, result });
    const summary = JSON.parse(await store.getText(ref)) as Record<string, unknown>;
    const latest = JSON.parse(readFileSync(path.join(store.root, 'runs', storeId, 'reviews', 'idea', 'summary.json'), 'utf8')) as Record<string, unknown>;
    return { verdict, summary, latest };
  }

  it.each([
    ['embedded', 'embedded:qwen2.5-coder-1.5b-instruct-q4_k_m.gguf'],
    ['embedded:/models/other.gguf', 'embedded:other.gguf'],
  ])('marks the verdict and the stored summary of judge %s as not calibrated', async (judge, model) => {
    const { verdict, summary, latest } = await review(judge, model, `cal-${judge.length}`);
    expect(verdict.calibrated).toBe(false);
    for (const s of [summary, latest]) {
      expect(s.calibrated).toBe(false);
      expect(s.calibration).toBe(`${judge}: ${UNCALIBRATED_NOTE}`);
      expect((s.verdicts as JudgeVerdict[])[0].calibrated).toBe(false);
    }
    // The terminal table says it too, on the judge's row and in a line below.
    const table = formatOutcomes([{ reviewId: 'r', kind: 'idea', result: summary as unknown as ReviewResult }]);
    expect(table).toContain(`${judge} (not calibrated)`);
    expect(table).toContain(`${judge}: not calibrated: an embedded model this small does not judge meaningfully`);
  });

  it('leaves a provider judge\'s review unmarked', async () => {
    const { verdict, summary } = await review('openai:gpt-4.1-mini', 'gpt-4.1-mini-2025-04-14', 'cal-provider');
    expect(verdict).not.toHaveProperty('calibrated');
    expect(summary).not.toHaveProperty('calibrated');
    expect(summary).not.toHaveProperty('calibration');
    expect(formatOutcomes([{ reviewId: 'r', kind: 'idea', result: summary as unknown as ReviewResult }])).not.toContain('not calibrated');
  });

  it('marks a review whose embedded judge failed, and a verdict from auto that chose the embedded model', () => {
    const usage = { llmCalls: 1, inputTokens: 1, outputTokens: 1, costUsd: 0 };
    expect(uncalibratedMark({ verdicts: [], failures: [{ judge: 'embedded', error: 'no valid JSON', usage }] })).toMatchObject({ calibrated: false });
    const byAuto = { judge: 'auto', model: 'embedded:qwen.gguf', rubricVersion: 'v1', scores: {}, artifact: { path: 'x', sha256: 'y', bytes: 1, mediaType: 'application/json' }, usage } as unknown as JudgeVerdict;
    expect(uncalibratedMark({ verdicts: [byAuto], failures: [] })).toMatchObject({ calibrated: false, calibration: `auto: ${UNCALIBRATED_NOTE}` });
    expect(isEmbeddedJudge('embedded')).toBe(true);
    expect(isEmbeddedJudge(' embedded:/x.gguf')).toBe(true);
    expect(isEmbeddedJudge('openai:embedded-model')).toBe(false);
    expect(isEmbeddedJudge('embeddedx')).toBe(false);
  });
});
