/**
 * The real cluster (`npm run test:cluster`, not part of `npm test`: the first run builds the
 * Temporal server with go install, minutes on 2 cores). `lab cluster up` in a fresh LAB_HOME
 * brings up PostgreSQL, the Temporal server with 8 history shards and the UI; a worker process
 * and `lab run` reach it through TEMPORAL_ADDRESS; PostgreSQL is restarted while a stage's LLM
 * call is in flight and the run still completes with every stage called once; `down` and a second
 * `up` keep the finished run in the database. Each phase's time is printed.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResearchRunResult, StageName } from '../../common/schemas.js';
import { LAB_SEARCH_ATTRIBUTES } from '../../common/searchAttributes.js';
import { restartPostgres, status } from '../../servers/cluster/cluster.js';
import { clusterPaths } from '../../servers/cluster/layout.js';
import type { ClusterState } from '../../servers/cluster/state.js';
import { FakeLlmServer } from '../fakes/fakeLlmServer.js';
import { scriptedReply, stageOfPrompt } from '../fakes/recordedOutputs.js';
import { runLab, sigkill, startWorkerProcess, type LabResult } from '../helpers/labProcesses.js';
import { tempDir } from '../helpers/temporal.js';
import { waitFor } from '../helpers/wait.js';
import { alive, freeClusterPorts } from './clusterServer.js';

/** The first `lab cluster up` on a machine builds the Temporal server, its SQL tool and the UI server (5-10 min on 2 cores). */
const FIRST_UP_TIMEOUT_MS = 1_200_000;
const dir = tempDir('cluster');
const labHome = path.join(dir, 'lab');
const labEnv = { LAB_HOME: labHome, LAB_LITERATURE_BACKENDS: 'none' };
let base: number;
let pgPort: number;
let uiPort: number;
let fake: FakeLlmServer;
let worker: ChildProcess | undefined;
let connection: Connection | undefined;
const calls = new Map<StageName, number>();
const timings: Array<[string, number]> = [];

async function timed<T>(what: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await fn();
  } finally {
    timings.push([what, (Date.now() - started) / 1000]);
  }
}

/** A block of free ports for the server (--port and the nine above it), plus the UI's and PostgreSQL's. */
async function freePorts(): Promise<void> {
  ({ base, ui: uiPort, postgres: pgPort } = await freeClusterPorts());
}

const cluster = (...args: string[]): Promise<LabResult> => runLab(['cluster', ...args], labEnv);
const upArgs = () => ['up', '--port', String(base), '--ui-port', String(uiPort), '--pg-port', String(pgPort)];
const state = (): ClusterState => JSON.parse(readFileSync(clusterPaths(labEnv).stateFile, 'utf8')) as ClusterState;
beforeAll(async () => {
  await freePorts();
  // Each reply takes 1.5 s: long enough to restart PostgreSQL while a call is in flight.
  fake = await new FakeLlmServer((req) => {
    const stage = stageOfPrompt(req.prompt);
    if (stage) calls.set(stage, (calls.get(stage) ?? 0) + 1);
    return { text: scriptedReply(req.prompt)!, delayMs: 1500 };
  }).start();
});

afterAll(async () => {
  await sigkill(worker);
  await connection?.close();
  await fake?.stop();
  // Whatever happened above, nothing of the cluster may outlive the test.
  const down = await cluster('down', '--delete-data');
  if (down.code !== 0) process.stderr.write(`lab cluster down failed: ${down.stderr}\n`);
  process.stdout.write(`\ncluster test timings (s): ${timings.map(([what, s]) => `${what} ${s.toFixed(1)}`).join(', ')}\n`);
}, 120_000);

describe('lab cluster: a Temporal server on PostgreSQL, without Docker', () => {
  it('refuses bad input with one line and starts nothing', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(base + 3, '127.0.0.1', resolve));
    try {
      const [zero, word, busy, noAction, stray, noPrograms] = await Promise.all([
        cluster('up', '--shards', '0'),
        cluster('up', '--shards', 'many'),
        cluster(...upArgs()),
        cluster(),
        cluster('status', '--shards', '4'),
        // Its own LAB_HOME: of two `lab cluster` commands on one LAB_HOME at once, one is refused by the other's lock (exit 1).
        runLab(['cluster', 'up', '--port', String(base + 100), '--pg-port', String(pgPort), '--no-ui'], {
          ...labEnv,
          LAB_HOME: path.join(dir, 'lab-without-programs'),
          LAB_CLUSTER_BIN_DIR: path.join(dir, 'no-programs'),
        }),
      ]);
      expect(zero.code).toBe(2);
      expect(zero.stderr).toMatch(/--shards must be a whole number from 1 to 16384, got "0"/);
      expect(word.code).toBe(2);
      expect(busy.code).toBe(2);
      expect(busy.stderr).toContain(`port ${base + 3} (worker service gRPC) is in use`);
      expect(noAction.code).toBe(2);
      expect(noAction.stderr).toMatch(/missing action: one of up, down, status, install/);
      expect(stray.stderr).toMatch(/--shards does not apply to lab cluster status/);
      expect(noPrograms.code).toBe(2);
      expect(noPrograms.stderr).toMatch(/the Temporal server is not in LAB_CLUSTER_BIN_DIR/);
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    expect(existsSync(clusterPaths(labEnv).stateFile)).toBe(false);
    const st = await cluster('status');
    expect(st.code).toBe(1);
    expect(st.stdout).toMatch(/no cluster is running here/);
  });

  it('comes up with PostgreSQL, 8 history shards, the namespace, the search attributes and the UI; up again changes nothing', async () => {
    const up = await timed('up (first, builds what is missing)', () => cluster(...upArgs(), '--shards', '8'));
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toContain(`on 127.0.0.1:${base}, 8 history shards, namespace default`);
    const first = state();

    connection = await Connection.connect({ address: `127.0.0.1:${base}` });
    const info = await connection.workflowService.getClusterInfo({});
    expect(info.historyShardCount).toBe(8);
    expect(info.persistenceStore).toBe('postgres12');
    const attributes = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
    for (const key of LAB_SEARCH_ATTRIBUTES) expect(Object.keys(attributes.customAttributes ?? {})).toContain(key.name);

    // The UI serves its web app, and its API answers from the cluster (the namespace registered above).
    const page = await fetch(`http://127.0.0.1:${uiPort}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);
    const namespaces = (await (await fetch(`http://127.0.0.1:${uiPort}/api/v1/namespaces`)).json()) as { namespaces: Array<{ namespaceInfo: { name: string } }> };
    expect(namespaces.namespaces.map((n) => n.namespaceInfo.name)).toContain('default');

    const again = await timed('up (again, idempotent)', () => cluster(...upArgs()));
    expect(again.code, again.stderr).toBe(0);
    expect(state().server.pid).toBe(first.server.pid);
    expect(state().historyShards).toBe(8); // kept from the database without --shards
    const otherShards = await cluster(...upArgs(), '--shards', '4');
    expect(otherShards.code).toBe(2);
    expect(otherShards.stderr).toMatch(/already runs .*8 shards/);

    const st = await cluster('status');
    expect(st.code, st.stdout).toBe(0);
    expect(st.stdout).toMatch(/Temporal server v1\.32\.1: running \(pid \d+\), healthy/);
    expect(st.stdout).toMatch(/PostgreSQL \d+: running \(pid \d+\) on 127\.0\.0\.1:/);
  }, FIRST_UP_TIMEOUT_MS);

  it('a research run completes against the cluster while PostgreSQL restarts mid-stage, each stage calling the LLM once', async () => {
    worker = await timed('worker ready', () => startWorkerProcess({ port: base, labHome, logFile: path.join(dir, 'worker.log'), readyWithinMs: 120_000 }));
    const runId = `cluster-run-${Date.now()}`;
    const runStarted = Date.now();
    const started = await runLab(
      ['run', 'small-lm-data-efficiency', '--model', `openai-compatible:scripted-model@${fake.openaiBaseURL}`, '--id', runId, '--detach', '--no-preflight'],
      { ...labEnv, TEMPORAL_ADDRESS: `127.0.0.1:${base}` },
    );
    expect(started.code, started.stderr).toBe(0);

    await waitFor(async () => (calls.get('proposal') ?? 0) > 0 || undefined, 'the proposal call', 180_000, 50);
    const before = (await status(labEnv)).postgres.pid;
    await timed('PostgreSQL restart', () => restartPostgres(labEnv)); // the proposal call is in flight
    const after = (await status(labEnv)).postgres.pid;
    expect(after).toBeDefined();
    expect(after).not.toBe(before);

    const client = new Client({ connection: connection! });
    const result: ResearchRunResult = await client.workflow.getHandle(runId).result();
    timings.push(['research run (scripted LLM at 1.5 s a call)', (Date.now() - runStarted) / 1000]);
    expect(result.status).toBe('completed');
    for (const stage of ['idea', 'literature', 'proposal', 'paper'] as const) expect(calls.get(stage), stage).toBe(1);
    expect(calls.get('experiment')).toBe(3); // the experiment agent's write, run, finish
    // The search attributes `up` registered were known at once: no workflow task failed upserting them.
    const history = await client.workflow.getHandle(runId).fetchHistory();
    expect(history.events!.filter((e) => e.workflowTaskFailedEventAttributes)).toHaveLength(0);
  }, 300_000);

  it('down stops everything; up again finds the finished run in PostgreSQL; down --delete-data removes the data', async () => {
    await sigkill(worker);
    await connection?.close();
    connection = undefined;
    const running = state();
    const down = await timed('down', () => cluster('down'));
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('stopped: ui, server, postgres');
    expect(alive(running.server.pid)).toBe(false);
    expect(alive(running.ui!.pid)).toBe(false);
    expect((await status(labEnv)).postgres.running).toBe(false);
    expect((await cluster('status')).code).toBe(1);

    const up = await timed('up (after down, data kept)', () => cluster(...upArgs()));
    expect(up.code, up.stderr).toBe(0);
    connection = await Connection.connect({ address: `127.0.0.1:${base}` });
    const client = new Client({ connection });
    const runs: string[] = [];
    for await (const w of client.workflow.list({ query: `WorkflowType = 'researchRun' AND ExecutionStatus = 'Completed'` })) runs.push(w.workflowId);
    expect(runs).toHaveLength(1);
    await connection.close();
    connection = undefined;

    const purge = await timed('down --delete-data', () => cluster('down', '--delete-data'));
    expect(purge.code, purge.stderr).toBe(0);
    expect(existsSync(running.postgres.dataDir)).toBe(false);
  }, 180_000);
});
