/**
 * Messages that misled a new user (issue 15, items 7 and 11), through the real `lab` process
 * against one dev server and one worker process (SIGKILLed in the last case) with a scripted LLM.
 */
import { type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../activities/store/localStore.js';
import { LLM_ERROR_TYPES } from '../common/errorTypes.js';
import type { ReviewResult } from '../common/reviews.js';
import type { RunProgress } from '../common/schemas.js';
import { spawnDevServer, waitForPort } from '../scripts/lib/devServer.js';
import { prepareRun, startRun } from '../scripts/lib/runs.js';
import { LabWorkerLogger } from '../workers/createWorkers.js';
import { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { judgeScript, recordedOutput, scriptedReply } from './fakes/recordedOutputs.js';
import { experimentStep, scriptedExperimentReply } from './fakes/scriptedExperiment.js';
import { freePort, runLab, sigkill, startWorkerProcess } from './helpers/labProcesses.js';
import { tempDir } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

const dir = tempDir('messages');
const labHome = path.join(dir, 'home');
const artifacts = path.join(labHome, 'artifacts');
let port: number;
let server: ChildProcess | undefined;
let worker: ChildProcess | undefined;
let fake: FakeLlmServer;
let connection: Connection;
let client: Client;
/** Experiment step whose agent reply is held back, so a test can look at (or kill) the run mid-step. */
let slowStep = -1;
/** The scripted paper: one result claim no file the experiment wrote holds, and a citation nobody retrieved. */
const PLANTED_PAPER = [
  '# Calibration under shift',
  '## Results',
  'The proposed method reached a mean score of 0.9912 on the shifted data.',
  'It improves on earlier work [arXiv:2599.99999](https://arxiv.org/abs/2599.99999).',
].join('\n\n');

const env = () => ({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, LAB_HOME: labHome, LAB_ARTIFACT_DIR: artifacts });
const lab = (...args: string[]) => runLab(args, env());
const model = () => `openai-compatible:scripted@${fake.openaiBaseURL}`;
const progress = (id: string) => client.workflow.getHandle(id).query<RunProgress>('progress');

beforeAll(async () => {
  port = await freePort();
  fake = await new FakeLlmServer((req) => {
    // A judge whose answers stay out of range (a failed re-judge); the paper states a number nothing measured.
    if (req.body.model === 'judge-broken') return judgeScript('judge-broken')(req);
    if (req.prompt.startsWith('Write the paper')) return { text: PLANTED_PAPER, delayMs: 10 };
    const step = experimentStep(req.prompt);
    if (step !== undefined) return { text: scriptedExperimentReply(step), delayMs: step === slowStep ? 60_000 : 10 };
    return { text: scriptedReply(req.prompt) ?? recordedOutput('idea'), delayMs: 10 };
  }).start();
  fake.models = ['scripted', 'judge-broken'];
  server = spawnDevServer({ port, uiPort: 0, dbFile: path.join(dir, 'temporal.db'), headless: true, logFile: path.join(dir, 'server.log') });
  await waitForPort(port, 60_000, server);
  connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  client = new Client({ connection });
  // An unreachable literature backend: the preflight warns about it (once, at lab run; not on every status).
  worker = await startWorkerProcess({
    port,
    labHome,
    logFile: path.join(dir, 'worker.log'),
    readyWithinMs: 90_000,
    env: { LAB_ARTIFACT_DIR: artifacts, LAB_LITERATURE_BACKENDS: 'arxiv', LAB_ARXIV_URL: 'http://127.0.0.1:1', LAB_WORKSPACE_DIR: path.join(dir, 'ws') },
  });
}, 150_000);

afterAll(async () => {
  await sigkill(worker);
  await connection?.close();
  await sigkill(server);
  await fake?.stop();
});

let runId: string;
let deadRunId: string;

describe('a run waiting at a gate', () => {
  it('lab run with piped output says it waits at the gate and exits 0 (11f)', async () => {
    const r = await lab('run', 'calibration-under-shift', '--gate', 'idea', '--model', model(), '--no-preflight');
    expect(r.code, r.stderr).toBe(0);
    runId = /started run (\S+)/.exec(r.stdout)![1];
    expect(r.stdout).toContain(`decide:    lab approve ${runId} --stage idea`);
    expect(r.stdout).toContain(`run ${runId} waits at the idea gate for a decision`);
    expect((await progress(runId)).pendingGate?.stage).toBe('idea');
  }, 90_000);

  it('lab resume says the run needs a decision, naming the gate (11b)', async () => {
    const r = await lab('resume', runId);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('continues by itself');
    expect(r.stderr).toContain(`it is waiting for a decision at the idea gate; it goes on once you decide: lab approve ${runId} --stage idea | lab revise ${runId} --stage idea`);
  });

  it('status and show do not repeat the preflight warnings (11c)', async () => {
    expect((await progress(runId)).preflight?.warnings.length).toBeGreaterThan(0);
    for (const cmd of ['status', 'show']) {
      const r = await lab(cmd, runId);
      expect(r.stdout, cmd).toContain('status awaiting_review');
      expect(r.stdout, cmd).not.toContain('preflight warning');
    }
  });

  it('a rejected run says where it was rejected and that no paper was written (11a), show --json has no reviews, provenance or citations yet (11g)', async () => {
    const rejected = await lab('reject', runId, '--stage', 'idea');
    expect(rejected.code, rejected.stderr).toBe(0);
    await client.workflow.getHandle(runId).result();
    const status = await lab('status', runId);
    expect(status.code).toBe(4);
    expect(status.stdout).toMatch(/^status rejected at the idea gate \(no paper was written\)  took /m);
    const show = await lab('show', runId);
    expect(show.stdout).not.toContain('(no paper yet)');
    expect(show.stdout).toContain('(no paper was written: the run was rejected at the idea gate)');

    // Nothing was judged or checked: show --json says so.
    const json = JSON.parse((await lab('show', runId, '--json')).stdout);
    expect(json).toMatchObject({ status: 'rejected', stoppedAt: 'idea', reviews: [], provenance: null, citations: [] });
  }, 60_000);
});

describe('lab show --json (11g)', () => {
  it('reports a finished run\'s reviews as lab judge wrote them (summary, judges, attempts, a failed re-judge marked) and its v2 provenance report', async () => {
    const id = `show-json-${process.pid}`;
    const { input } = await prepareRun({ task: 'calibration-under-shift', model: model(), workflowId: id });
    await (await startRun(client, id, { ...input, skipPreflight: true })).result();

    // A good review, then a re-judge whose judge fails: the real lab judge writes summary.json and both attempts.
    const good = await lab('judge', id, '--judge', model(), '--kind', 'idea', '--json');
    expect(good.code, good.stderr).toBe(0);
    const [{ result: review }] = JSON.parse(good.stdout) as Array<{ result: ReviewResult }>;
    const bad = await lab('judge', id, '--judge', `openai-compatible:judge-broken@${fake.openaiBaseURL}`, '--kind', 'idea');
    expect(bad.code, bad.stderr).toBe(3);

    const show = await lab('show', id, '--json');
    expect(show.code, show.stderr).toBe(0);
    const json = JSON.parse(show.stdout);
    const folder = path.join(artifacts, 'runs', id);
    expect(json.folder).toBe(folder);
    const ideaReviews = path.join(folder, 'reviews', 'idea');
    expect(Object.keys(review.mean!).length).toBeGreaterThan(1);
    expect(json.reviews).toEqual([
      {
        kind: 'idea',
        status: 'completed',
        path: path.join(ideaReviews, 'summary.json'),
        rubricVersion: review.rubricVersion,
        attempt: review.attempt,
        mean: review.mean,
        judges: [{ judge: model(), model: review.verdicts[0].model, scores: review.verdicts[0].scores, overall: review.verdicts[0].overall, path: path.join(ideaReviews, 'attempts', review.attempt!, 'openai-compatible_scripted.json') }],
        attempts: [
          { attempt: review.attempt, status: 'completed', current: true, path: path.join(ideaReviews, 'attempts', review.attempt!, 'summary.json'), judges: [model()], failures: [], mean: review.mean },
          {
            attempt: expect.not.stringMatching(review.attempt!),
            status: 'failed',
            current: false,
            path: expect.stringMatching(/reviews\/idea\/attempts\/[^/]+\/summary\.json$/),
            judges: [],
            failures: [{ judge: `openai-compatible:judge-broken@${fake.openaiBaseURL}`, error: expect.stringContaining('answer out of range') }],
          },
        ],
      },
    ]);
    expect(json.reviews[0].mean).toEqual(review.verdicts[0].scores);

    // Provenance: the v2 report's counts (results.md's two measured means back it, the paper's planted
    // number does not), the planted claim flagged with why, and where the report is.
    expect(json.provenance).toMatchObject({ path: path.join(folder, 'provenance.json'), status: 'ok', numbers: 3, checked: 3, matched: 2, unmatched: 1, counts: { supported: 2, unsupported: 1 }, notes: [] });
    expect(json.provenance.flagged).toEqual([
      expect.objectContaining({ document: 'paper.md', text: '0.9912', verdict: 'unsupported', reason: 'in no measured file', excerpt: expect.stringContaining('mean score of ⟦0.9912⟧') }),
    ]);
    // The citation check's findings on the paper (the literature backend is unreachable here: nothing verified).
    expect(json.citations).toEqual([
      { document: 'paper', path: path.join(folder, 'citations', 'paper.json'), checked: 1, verified: 0, flagged: [{ id: 'arXiv:2599.99999', reason: 'unverifiable_offline', detail: expect.stringContaining('127.0.0.1:1') }] },
    ]);
  }, 180_000);
});

describe('the worker log', () => {
  it('an expected budget stop is one line, without a stack (11d)', () => {
    const lines: string[] = [];
    const logger = new LabWorkerLogger(false, (e) => lines.push(`[${e.level}] ${e.message} ${JSON.stringify(e.meta ?? {})}`));
    const error = ApplicationFailure.nonRetryable('the run has $0.0001 left; this call could cost $0.002', LLM_ERROR_TYPES.budget);
    logger.warn('Activity failed', { error, activityType: 'runStage', workflowId: 'r1', durationMs: 3 });
    expect(lines).toEqual(['[WARN] Activity stopped: budget exhausted (the run has $0.0001 left; this call could cost $0.002) {"activityType":"runStage","workflowId":"r1"}']);
    // Any other failure keeps its error (and stack).
    const entries: unknown[] = [];
    new LabWorkerLogger(false, (e) => entries.push(e.meta?.error)).warn('Activity failed', { error: new Error('boom') });
    expect((entries[0] as Error).stack).toContain('boom');
  });
});

describe('a dead worker (7)', () => {
  it('lab status shows the experiment step, then says the run waits for a worker and when it is retried', async () => {
    slowStep = 2;
    const { input } = await prepareRun(
      { task: 'calibration-under-shift', model: model(), workflowId: `dead-worker-${process.pid}`, stageTimeouts: { startToCloseSeconds: 600, heartbeatSeconds: 5, maxAttempts: 5 } },
    );
    const runId = (deadRunId = `dead-worker-${process.pid}`);
    await startRun(client, runId, { ...input, skipPreflight: true });
    const live = await waitFor(
      async () => {
        const r = await lab('status', runId);
        return /experiment\s+running .*step \d+\/\d+/.test(r.stdout) ? r : undefined;
      },
      'the experiment mid-step',
      60_000,
      500,
    );
    expect(live.stdout).not.toContain('waiting for a worker');
    await sigkill(worker);
    const dead = await waitFor(
      async () => {
        const r = await lab('status', runId);
        return r.stdout.includes('waiting for a worker') ? r : undefined;
      },
      'lab status to say it waits for a worker',
      // Three missed heartbeats (15 s) plus lab status calls, each a process start: slow on a loaded 2-core machine.
      90_000,
      1000,
    );
    expect(dead.code).toBe(0);
    expect(dead.stdout).toMatch(/waiting for a worker: its worker stopped answering \(no heartbeat from \w+ since \d\d:\d\d:\d\dZ, \S+ ago\); (its attempt 1 times out at \d\d:\d\d:\d\dZ and is retried then|attempt \d is retried (at \d\d:\d\d:\d\dZ|as soon as a worker picks it up)); is `lab worker` running\?/);
  }, 210_000);
});

describe('lab export and lab tasks', () => {
  it('export prints its output path as given (11e); tasks says any folder with a task.md runs (11h)', async () => {
    // The dead worker's run has step records (its experiment's first step); export reads them from the store.
    const out = path.join(os.tmpdir(), `lab-messages-export-${process.pid}.jsonl`);
    const r = await lab('export', '--format', 'steps', deadRunId, '--out', out, '--include-failed');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(` to ${out};`);
    expect(r.stderr).not.toContain('../');
    const tasks = await lab('tasks');
    expect(tasks.stdout).toContain('any folder with a task.md can be run by its path too: lab run ./my-task');
  });
});
