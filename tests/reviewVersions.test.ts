/**
 * Issue 15, item 3: a failed re-judge must not destroy a good review. A run's idea is judged well,
 * then judged again by a judge whose answers stay out of range (valid JSON, scores of 0): the
 * kind's summary.json still holds the good review, the failed attempt is stored apart in its own
 * folder with its calls and tokens counted, and `lab judge` says "answer out of range" on stderr,
 * naming the judge once.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReviewResult } from '../common/reviews.js';
import { prepareRun, startRun } from '../scripts/lib/runs.js';
import { judgeScript } from './fakes/recordedOutputs.js';
import { runLab } from './helpers/labProcesses.js';
import { startScriptedLab, tempDir, type ScriptedLab } from './helpers/temporal.js';

let t: ScriptedLab;
const dir = tempDir('review-versions');
let runId: string;


const model = (name: string) => `openai-compatible:${name}@${t.fake.openaiBaseURL}`;
const lab$ = (...args: string[]) => runLab(args, { TEMPORAL_ADDRESS: t.env.address, LAB_HOME: path.join(dir, 'home'), LAB_ARTIFACT_DIR: t.lab.store.root });

beforeAll(async () => {
  t = await startScriptedLab(judgeScript('judge-broken'));
  t.fake.models = ['agent', 'judge-a', 'judge-broken'];
  const { workflowId, input } = await prepareRun({ task: 'calibration-under-shift', model: model('agent'), workflowId: `rejudge-${Date.now()}` });
  runId = workflowId;
  await (await startRun(t.env.client, workflowId, { ...input, stopAfter: 'idea' })).result();
}, 120_000);

afterAll(async () => {
  await t?.teardown();
});

describe('a failed re-judge', () => {
  it('keeps the good review as the one readers see and stores the failed attempt apart, its calls counted', async () => {
    const ideaFolder = path.join(t.lab.store.runFolder(runId), 'reviews', 'idea');
    const latest = path.join(ideaFolder, 'summary.json');

    const good = await lab$('judge', runId, '--judge', model('judge-a'), '--kind', 'idea', '--json');
    expect(good.code, good.stderr).toBe(0);
    const [{ result: goodResult }] = JSON.parse(good.stdout) as Array<{ result: ReviewResult }>;
    expect(goodResult.status).toBe('completed');
    const goodSummary = readFileSync(latest, 'utf8');
    expect(JSON.parse(goodSummary)).toMatchObject({ status: 'completed', rubricVersion: 'v1', attempt: goodResult.attempt });
    const goodAnswer = t.lab.store.localPath(goodResult.verdicts[0].artifact);
    expect(existsSync(goodAnswer)).toBe(true);

    const bad = await lab$('judge', runId, '--judge', model('judge-broken'), '--kind', 'idea');
    expect(bad.code, bad.stderr).toBe(3);
    // The reason is on stderr, says what was wrong with the valid JSON, and names the judge once.
    expect(bad.stderr).toContain('answer out of range');
    expect(bad.stderr).not.toMatch(/invalid JSON|not parseable/);
    expect(bad.stderr.split('judge-broken').length - 1).toBe(1);
    expect(bad.stdout).not.toContain('answer out of range');

    // Readers still see the good review, its judge's answer untouched.
    expect(readFileSync(latest, 'utf8')).toBe(goodSummary);
    expect(existsSync(goodAnswer)).toBe(true);

    // The failed attempt is readable on its own, beside the good one, with the two paid calls counted.
    const attempts = readdirSync(path.join(ideaFolder, 'attempts'));
    expect(attempts).toHaveLength(2);
    const failedName = attempts.find((a) => a !== goodResult.attempt)!;
    const failed = JSON.parse(readFileSync(path.join(ideaFolder, 'attempts', failedName, 'summary.json'), 'utf8')) as ReviewResult;
    expect(failed).toMatchObject({ status: 'failed', rubricVersion: 'v1', attempt: failedName, verdicts: [] });
    expect(failed.failures).toHaveLength(1);
    expect(failed.failures[0].usage?.llmCalls).toBe(2);
    expect(failed.usage.llmCalls).toBe(2);
    expect(failed.usage.inputTokens + failed.usage.outputTokens).toBeGreaterThan(0);
    expect(bad.stderr).toContain(`attempts/${failedName}/summary.json`);
    expect(bad.stderr).toContain('2 call(s)');
  }, 90_000);
});
