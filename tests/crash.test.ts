/**
 * Crash tests with real processes: a Temporal dev server (SQLite file) and a lab worker run as
 * child processes; the test SIGKILLs one of them in the middle of a stage, starts it again, and
 * checks the run completes without any finished stage calling the LLM again.
 */
import { type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../activities/store/localStore.js';
import type { ResearchRunResult, StageName } from '../common/schemas.js';
import { spawnDevServer, waitForPort } from '../scripts/lib/devServer.js';
import { prepareRun, startRun } from '../scripts/lib/runs.js';
import { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { scriptedReply, stageOfPrompt } from './fakes/recordedOutputs.js';
import { tempDir } from './helpers/temporal.js';
import { freePort, sigkill, startWorkerProcess } from './helpers/labProcesses.js';
import { waitFor } from './helpers/wait.js';

const dir = tempDir('crash');
const labHome = path.join(dir, 'lab');
const dbFile = path.join(dir, 'temporal.db');
let port: number;
let server: ChildProcess | undefined;
let worker: ChildProcess | undefined;
let fake: FakeLlmServer;
let connection: Connection;
let client: Client;
/** HTTP calls the LLM server received, per run and stage. */
const calls = new Map<string, number>();
const key = (runId: string, stage: StageName) => `${runId}/${stage}`;


async function startServer(): Promise<void> {
  server = spawnDevServer({ port, uiPort: 0, dbFile, headless: true, logFile: path.join(dir, 'server.log') });
  await waitForPort(port, 60_000, server);
}



async function startWorker(): Promise<void> {
  // node --import tsx runs the worker in this very process, so SIGKILL hits the worker itself.
  worker = await startWorkerProcess({ port, labHome, logFile: path.join(dir, 'worker.log'), readyWithinMs: 90_000 });
}

async function startResearchRun(runId: string) {
  const { input } = await prepareRun(
    {
      task: 'small-lm-data-efficiency',
      model: `openai-compatible:scripted-model@${fake.openaiBaseURL}`,
      workflowId: runId,
      // A short heartbeat timeout so an activity lost with its worker is retried within seconds.
      stageTimeouts: { startToCloseSeconds: 120, heartbeatSeconds: 2, maxAttempts: 20 },
    },
  );
  return startRun(client, runId, input);
}

beforeAll(async () => {
  port = await freePort();
  // Each reply takes 1.5 s, long enough to kill a process while a call is in flight.
  fake = await new FakeLlmServer((req) => {
    const stage = stageOfPrompt(req.prompt)!;
    const k = key(currentRun, stage);
    calls.set(k, (calls.get(k) ?? 0) + 1);
    return { text: scriptedReply(req.prompt)!, delayMs: 1500 };
  }).start();
  await startServer();
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

/** Runs one at a time in this file, so the fake attributes calls to the current run. */
let currentRun = '';

function waitForCall(runId: string, stage: StageName) {
  return waitFor(async () => (calls.get(key(runId, stage)) ?? 0) > 0 || undefined, `${stage} call of ${runId}`, 120_000, 50);
}

describe('crash recovery with real processes', () => {
  it('a worker killed mid-stage is replaced and no finished stage runs twice', async () => {
    currentRun = `crash-worker-${Date.now()}`;
    const handle = await startResearchRun(currentRun);
    await waitForCall(currentRun, 'proposal');
    await sigkill(worker); // the proposal call is in flight
    await startWorker();
    const result: ResearchRunResult = await handle.result();

    expect(result.status).toBe('completed');
    expect(calls.get(key(currentRun, 'idea'))).toBe(1);
    expect(calls.get(key(currentRun, 'literature'))).toBe(1);
    // The interrupted stage ran again (its reply never reached a live worker); later stages once.
    expect(calls.get(key(currentRun, 'proposal'))).toBe(2);
    // The experiment agent's three steps (write, run, finish), each once.
    expect(calls.get(key(currentRun, 'experiment'))).toBe(3);
    expect(calls.get(key(currentRun, 'paper'))).toBe(1);
    const history = await handle.fetchHistory();
    const stageActivities = new Set(history.events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'runStage').map((e) => Number(e.eventId)));
    const completed = history.events!.filter((e) => stageActivities.has(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId)));
    expect(completed).toHaveLength(3); // idea, proposal, paper: one completion each
  });

  it('a dev server killed mid-stage comes back from its SQLite file and the run completes', async () => {
    currentRun = `crash-server-${Date.now()}`;
    const handle = await startResearchRun(currentRun);
    await waitForCall(currentRun, 'literature');
    await sigkill(server); // the literature call is in flight; the worker keeps running
    await new Promise((r) => setTimeout(r, 1000));
    await startServer();
    const result: ResearchRunResult = await client.workflow.getHandle(handle.workflowId).result();

    expect(result.status).toBe('completed');
    expect(calls.get(key(currentRun, 'idea'))).toBe(1);
    // The in-flight literature call completes once: a retry of its activity finds the reply in the LLM call cache.
    expect(calls.get(key(currentRun, 'literature'))).toBe(1);
    for (const stage of ['proposal', 'paper'] as const) expect(calls.get(key(currentRun, stage))).toBe(1);
    expect(calls.get(key(currentRun, 'experiment'))).toBe(3);
  });
});
