/**
 * A benchmark sweep on real processes: a Temporal dev server and a lab worker as child processes,
 * 20 tasks (the shared MLR-Bench ones when present) × one scripted agent, reviewed by two scripted
 * judges at concurrency 8. One task's run fails on purpose; the worker is SIGKILLed mid-batch.
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchItemKey, type BenchmarkInput, type BenchResult } from '../common/benchmark.js';
import type { ReviewResult } from '../common/reviews.js';
import { spawnDevServer, waitForPort } from '../scripts/lib/devServer.js';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { fixtureJson } from './helpers/recordedHistory.js';
import { finishedItems, loadBenchReport, startBench } from '../scripts/lib/bench.js';
import { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { scriptedReply } from './fakes/recordedOutputs.js';
import { SHARED_DIR } from './helpers/shared.js';
import { tempDir } from './helpers/temporal.js';
import { freePort, sigkill, startWorkerProcess } from './helpers/labProcesses.js';
import { historySizeBytes, waitFor } from './helpers/wait.js';

const FIXTURES = path.join(__dirname, 'fixtures');

const dir = tempDir('bench');
const labHome = path.join(dir, 'lab');
const taskDir = path.join(dir, 'tasks');
let port: number;
let server: ChildProcess | undefined;
let worker: ChildProcess | undefined;
let fake: FakeLlmServer;
let connection: Connection;
let client: Client;

/** The task whose idea call the fake refuses (HTTP 400) until the test lifts the fault. */
let failingTaskLine = '';
let faultActive = true;
/** Judge calls by (judge model, prompt): a finished review must never be asked again. */
const judgeCalls = new Map<string, number>();
/** Agent calls per task text line, to see that a retry touches only its task. */
let agentCallsByTask = new Map<string, number>();
let taskLines: string[] = [];


/** 20 tasks: the first 20 shared MLR-Bench tasks, or written here when the shared data is absent. */
function writeTasks(): string[] {
  const shared = path.join(SHARED_DIR, 'mlrbench-tasks');
  const names = existsSync(shared) ? readdirSync(shared).filter((n) => existsSync(path.join(shared, n, 'task.md'))).sort().slice(0, 20) : [];
  const lines: string[] = [];
  for (let i = 0; i < 20; i++) {
    const name = names[i] ?? `synth2025_topic${String(i + 1).padStart(2, '0')}`;
    const content = names[i]
      ? readFileSync(path.join(shared, name, 'task.md'), 'utf8')
      : `# Workshop on synthetic topic ${i + 1}\n\nThis workshop invites research on topic number ${i + 1}: methods, theory and evaluation.\n`;
    mkdirSync(path.join(taskDir, name), { recursive: true });
    writeFileSync(path.join(taskDir, name, 'task.md'), content);
    // A line only this task has, to tell its prompts apart.
    lines.push(content.split('\n').map((l) => l.trim()).filter((l) => l.length > 20).find((l) => !lines.includes(l)) ?? content.slice(0, 80));
  }
  return lines;
}



async function startWorker(): Promise<void> {
  worker = await startWorkerProcess({ port, labHome, logFile: path.join(dir, 'worker.log'), readyWithinMs: 90_000 });
}

const model = (name: string) => `openai-compatible:${name}@${fake.openaiBaseURL}`;

function benchInput(): BenchmarkInput {
  return {
    tasks: taskDir,
    mode: 'stepwise',
    agents: [model('scripted-agent')],
    judges: [model('judge-a'), model('judge-b')],
    stages: ['idea', 'literature', 'proposal'],
    reviews: ['idea', 'proposal'],
    concurrency: 8,
    // Short heartbeats, so activities lost with the killed worker are retried within seconds.
    stageTimeouts: { startToCloseSeconds: 120, heartbeatSeconds: 3, maxAttempts: 20 },
  };
}

async function reviewIds(status: 'Completed' | 'Running', benchId: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of client.workflow.list({ query: `LabBench = '${benchId}' AND WorkflowType = 'review' AND ExecutionStatus = '${status}'` })) ids.push(w.workflowId);
  return ids;
}

beforeAll(async () => {
  taskLines = writeTasks();
  failingTaskLine = taskLines[7];
  port = await freePort();
  fake = await new FakeLlmServer((req) => {
    const modelName = String(req.body?.model ?? '');
    if (modelName.startsWith('judge-')) {
      const k = `${modelName}:${createHash('sha256').update(req.prompt).digest('hex')}`;
      judgeCalls.set(k, (judgeCalls.get(k) ?? 0) + 1);
    } else {
      const line = taskLines.find((l) => req.prompt.includes(l));
      if (line) agentCallsByTask.set(line, (agentCallsByTask.get(line) ?? 0) + 1);
      if (faultActive && line === failingTaskLine && req.prompt.startsWith('Propose one research idea')) {
        return { status: 400, body: { error: { message: 'injected fault: this request is refused', type: 'invalid_request_error' } } };
      }
    }
    const text = scriptedReply(req.prompt, req.system);
    if (text === undefined) return { status: 500, body: { error: { message: `the scripted model has no answer for: ${req.prompt.slice(0, 60)}` } } };
    return { text, delayMs: 150 };
  }).start();
  fake.models = ['scripted-agent', 'judge-a', 'judge-b'];
  server = spawnDevServer({ port, uiPort: 0, dbFile: path.join(dir, 'temporal.db'), headless: true, logFile: path.join(dir, 'server.log') });
  await waitForPort(port, 60_000, server);
  connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  client = new Client({ connection });
  await startWorker();
}, 180_000);

afterAll(async () => {
  await sigkill(worker);
  await connection?.close();
  await sigkill(server);
  await fake?.stop();
});

describe('benchmark sweep', () => {
  const benchId = `bench-test-${Date.now()}`;

  it('runs 20 tasks at concurrency 8, isolates the failing one, and a killed worker costs no finished review', async () => {
    const handle = await startBench(client, benchId, benchInput());
    // Kill the worker once some reviews have finished and others are still running.
    await waitFor(async () => (await reviewIds('Completed', benchId)).length >= 6 || undefined, 'six finished reviews', 120_000, 200);
    await sigkill(worker);
    const finishedBeforeKill = await reviewIds('Completed', benchId);
    const closeTimes = new Map<string, number>();
    for (const id of finishedBeforeKill) closeTimes.set(id, (await client.workflow.getHandle(id).describe()).closeTime!.getTime());
    await startWorker();

    const result: BenchResult = await handle.result();
    expect(result.total).toBe(20);
    expect(result.done).toBe(19);
    expect(result.failed).toBe(1);
    const [failure] = result.failures;
    expect(failure.part).toBe('research');
    expect(failure.reason).toMatch(/injected fault/);
    const failedTask = readdirSync(taskDir).sort()[7];
    expect(failure.task).toBe(failedTask);

    // Reviews finished before the kill were not run again: one execution each, closed when they were.
    for (const id of finishedBeforeKill) {
      const { count } = await client.workflow.count(`WorkflowId = '${id}'`);
      expect(count).toBe(1);
      expect((await client.workflow.getHandle(id).describe()).closeTime!.getTime()).toBe(closeTimes.get(id));
    }
    // Each finished review's judge prompts were answered once; a repeat can only be a call in flight at the kill.
    const repeated = [...judgeCalls.values()].filter((n) => n > 1).length;
    expect(repeated).toBeLessThanOrEqual(benchInput().concurrency! * 2 * 2 - finishedBeforeKill.length);
    expect(await reviewIds('Completed', benchId)).toHaveLength(19 * 2);

    // Orchestration stays lean: the benchmark starts each item's run and reviews itself (no
    // benchItem workflow in between), and a review writes its summary as a local activity.
    expect((await client.workflow.count(`LabBench = '${benchId}' AND WorkflowType = 'benchItem'`)).count).toBe(0);
    const reviewHistory = await client.workflow.getHandle(finishedBeforeKill[0]).fetchHistory();
    const scheduled = (reviewHistory.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);
    expect(scheduled.sort()).toEqual(['judgeReview', 'judgeReview']);
    expect((reviewHistory.events ?? []).filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity')).toHaveLength(1);
    // Its search attributes were set at its start: its one upsert is its final status.
    expect((reviewHistory.events ?? []).filter((e) => e.upsertWorkflowSearchAttributesEventAttributes)).toHaveLength(1);

    // History stays small: children's results carry references and numbers, never documents.
    const history = await handle.fetchHistory();
    const perItem = historySizeBytes(history) / 20;
    expect(perItem).toBeLessThan(20 * 1024);
    if (process.env.LAB_RECORD_HISTORIES) {
      const review = await client.workflow.getHandle(finishedBeforeKill[0]).fetchHistory();
      writeFileSync(path.join(FIXTURES, `benchmark@${benchId}.history.json`), fixtureJson(history, dir, '/tmp/lab-bench'));
      writeFileSync(path.join(FIXTURES, `review@${finishedBeforeKill[0]}.history.json`), fixtureJson(review, dir, '/tmp/lab-bench'));
      // Items run inside the benchmark now; the benchItem fixture recorded before keeps that path replaying.
    }
  }, 300_000);

  it('retries the failed item alone', async () => {
    faultActive = false;
    agentCallsByTask = new Map();
    const failedKey = benchItemKey(readdirSync(taskDir).sort()[7], model('scripted-agent'));
    const finished = await finishedItems(client, benchId, ['idea', 'proposal']);
    expect(finished).toHaveLength(19);
    expect(finished).not.toContain(failedKey);
    const handle = await startBench(client, benchId, { ...benchInput(), skip: finished, only: [failedKey] });
    const result: BenchResult = await handle.result();
    expect(result).toMatchObject({ total: 1, done: 1, failed: 0 });
    // Only the retried task's agent was called.
    expect([...agentCallsByTask.keys()]).toEqual([failingTaskLine]);
    expect(await finishedItems(client, benchId, ['idea', 'proposal'])).toHaveLength(20);
  });

  it('the report holds exactly the stored reviews, and lab report writes its tables', async () => {
    const report = await loadBenchReport(client, benchId);
    expect(report.failures).toEqual([]);
    expect(report.records).toHaveLength(20 * 2 * 2);
    // Every record equals the judge's answer stored in the artifact store.
    for await (const w of client.workflow.list({ query: `LabBench = '${benchId}' AND WorkflowType = 'review' AND ExecutionStatus = 'Completed'` })) {
      const result = (await client.workflow.getHandle(w.workflowId, w.runId).result()) as ReviewResult;
      for (const verdict of result.verdicts) {
        const stored = JSON.parse(readFileSync(path.join(labHome, 'artifacts', verdict.artifact.path), 'utf8')) as Record<string, { score?: number }>;
        const record = report.records.find((r) => r.source === w.workflowId && r.judge === verdict.judge)!;
        for (const [dimension, score] of Object.entries(record.scores)) {
          if (stored[dimension]?.score !== undefined) expect(score).toBe(stored[dimension].score);
        }
        expect(Object.keys(record.scores).length).toBeGreaterThanOrEqual(6);
      }
    }

    const out = path.join(dir, 'report');
    const cli = spawnSync(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs'), 'report', benchId, '--out', out, '--json'], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, LAB_HOME: labHome },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(cli.status, cli.stderr).toBe(0);
    const written = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8'));
    // The report's idea Overall for the agent equals the mean over tasks per judge, then over judges, of the stored scores.
    const perJudge = ['judge-a', 'judge-b'].map((j) => {
      const scores = report.records.filter((r) => r.kind === 'idea' && r.judge === model(j)).map((r) => r.scores.OverallAssessment);
      return scores.reduce((a, b) => a + b, 0) / scores.length;
    });
    const expected = (perJudge[0] + perJudge[1]) / 2;
    expect(JSON.stringify(written)).toContain(model('scripted-agent'));
    expect(findOverall(written, 'idea')).toBeCloseTo(expected, 2);
  });
});

/** The idea Overall mean for the agent in report.json, wherever the report keeps its rows. */
function findOverall(report: unknown, kind: string): number | undefined {
  const rows: Array<Record<string, unknown>> = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.kind === kind && /^Overall/.test(String(o.dimension)) && typeof o.mean === 'number') rows.push(o);
      Object.values(o).forEach(walk);
    }
  };
  walk(report);
  return rows[0]?.mean as number | undefined;
}

