/**
 * Hosts that share nothing but Temporal and the store: a research worker (workflows, LLM calls,
 * literature) and two sandbox workers (experiment code) run as separate processes with their own
 * LAB_HOME folders, the artifact store is a real S3 server, and the `lab` CLI runs from a third
 * folder. A research run with a real sandboxed experiment and a 3-task benchmark with reviews
 * complete; `lab show`, `lab export`, `lab judge --dir` and `lab report` work from the CLI's folder.
 */
import { type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchResult } from '../common/benchmark.js';
import type { ResearchRunResult } from '../common/schemas.js';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { spawnDevServer, waitForPort } from '../scripts/lib/devServer.js';
import { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { scriptedReply } from './fakes/recordedOutputs.js';
import { experimentStep } from './fakes/scriptedExperiment.js';
import { freePort, runLab, sigkill, startWorkerProcess } from './helpers/labProcesses.js';
import { startS3Server, type S3TestServer } from './helpers/s3Server.js';
import { tempDir } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';
import { fixtureJson } from './helpers/recordedHistory.js';

const FIXTURES = path.join(__dirname, 'fixtures');

const dir = tempDir('two-hosts');
const hosts = {
  research: path.join(dir, 'research-host'),
  sandbox: path.join(dir, 'sandbox-host'),
  sandbox2: path.join(dir, 'sandbox-host-2'),
  cli: path.join(dir, 'cli-host'),
};
let s3: S3TestServer;
let fake: FakeLlmServer;
let server: ChildProcess | undefined;
const workers: ChildProcess[] = [];
let connection: Connection;
let client: Client;
let port: number;
let model: string;

/** What a host needs: the Temporal address and the store settings, nothing else shared. */
const hostEnv = (home: string): NodeJS.ProcessEnv => ({ ...s3.env, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, LAB_HOME: path.join(home, '.lab'), LAB_LITERATURE_BACKENDS: 'none' });
const lab = (...args: string[]) => runLab(args, hostEnv(hosts.cli), hosts.cli);

beforeAll(async () => {
  for (const h of Object.values(hosts)) mkdirSync(h, { recursive: true });
  s3 = await startS3Server(dir);
  fake = await new FakeLlmServer((req) => {
    const text = scriptedReply(req.prompt, req.system);
    return text === undefined ? { status: 400, text: 'no scripted reply' } : { text };
  }).start();
  model = `openai-compatible:scripted-model@${fake.openaiBaseURL}`;
  port = await freePort();
  server = spawnDevServer({ port, uiPort: 0, dbFile: path.join(dir, 'temporal.db'), headless: true, logFile: path.join(dir, 'server.log') });
  await waitForPort(port, 60_000, server);
  connection = await Connection.connect({ address: `127.0.0.1:${port}` });
  client = new Client({ connection });
  workers.push(
    ...(await Promise.all([
      startWorker(hosts.research, 'research,llm,literature', (out) => out.includes('worker ready: research') && out.includes('worker ready: llm')),
      startSandboxHost(0),
      // A second sandbox host: a run's steps must all go to the host that holds its workspace.
      startSandboxHost(1),
    ])),
  );
}, 240_000);

function startWorker(home: string, queues: string, ready: (out: string) => boolean, env: NodeJS.ProcessEnv = {}) {
  return startWorkerProcess({ port, labHome: path.join(home, '.lab'), logFile: path.join(home, 'worker.log'), env: { ...hostEnv(home), LAB_WORKER_QUEUES: queues, ...env }, readyWhen: ready, readyWithinMs: 120_000 });
}

/** The two sandbox hosts, by index: workers[1 + i] serves SANDBOX_HOSTS[i]. */
const SANDBOX_HOSTS = [
  { home: hosts.sandbox, id: 'host-a' },
  { home: hosts.sandbox2, id: 'host-b' },
];
function startSandboxHost(i: number) {
  return startWorker(SANDBOX_HOSTS[i].home, 'sandbox', (out) => out.includes('worker ready: sandbox'), { LAB_SANDBOX_HOST_ID: SANDBOX_HOSTS[i].id });
}

/**
 * Starts a research run with a 3 s host wait whose experiment's second step is held until `atStepTwo`
 * has run (given the index of the host holding the workspace); returns the run id.
 */
async function runHeldAtStepTwo(atStepTwo: (holder: number, runId: string) => Promise<void>): Promise<string> {
  let reached!: () => void;
  const atStep = new Promise<void>((resolve) => (reached = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const script = fake.script;
  let held = false;
  fake.script = async (req) => {
    if (experimentStep(req.prompt) === 2 && !held) {
      held = true;
      reached();
      await released;
    }
    return script(req);
  };
  try {
    const started = await lab('run', 'small-lm-data-efficiency', '--model', model, '--host-wait', '3s', '--detach', '--json');
    expect(started.code, started.stderr).toBe(0);
    const runId: string = JSON.parse(started.stdout).runId;
    await atStep;
    const holder = SANDBOX_HOSTS.findIndex((h) => existsSync(path.join(h.home, '.lab', 'workspaces', runId)));
    expect(holder).toBeGreaterThanOrEqual(0);
    await atStepTwo(holder, runId);
    return runId;
  } finally {
    release();
    fake.script = script;
  }
}

/** The experiment's history before and after it claimed a host again (its continue-as-new). */
async function experimentHistories(runId: string) {
  const experimentId = `${runId}-experiment`;
  const after = await client.workflow.getHandle(experimentId).fetchHistory();
  const lostRunOf = after.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId;
  expect(lostRunOf).toBeTruthy();
  const lost = await client.workflow.getHandle(experimentId, lostRunOf!).fetchHistory();
  return { experimentId, lost, after };
}

const activityTypes = (h: { events?: Array<{ activityTaskScheduledEventAttributes?: { activityType?: { name?: string | null } | null } | null }> | null }) =>
  (h.events ?? []).flatMap((e) => e.activityTaskScheduledEventAttributes?.activityType?.name ?? []);

afterAll(async () => {
  for (const w of workers) await sigkill(w);
  await connection?.close().catch(() => undefined);
  await sigkill(server);
  await fake?.stop();
  await s3?.stop();
});

/** Every key the S3 server holds under `runs/<id>/`. */
function storedNames(id: string): string[] {
  const root = path.join(s3.dataDir, s3.bucket, 'runs', id);
  return existsSync(root) ? (readdirSync(root, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[]).filter((e) => e.isFile()).map((e) => path.relative(root, path.join(e.parentPath, e.name))) : [];
}

describe('two hosts, one store', () => {
  let runId: string;

  it('a research run with a sandboxed experiment completes with each host on its own disk', async () => {
    const started = await lab('run', 'small-lm-data-efficiency', '--model', model, '--detach', '--json');
    expect(started.code, started.stderr).toBe(0);
    runId = JSON.parse(started.stdout).runId;
    const result = (await client.workflow.getHandle(runId).result()) as ResearchRunResult;
    expect(result.status).toBe('completed');

    // The experiment's code ran on one sandbox host (it claimed it; every step went there), not on the research host.
    const holders = [hosts.sandbox, hosts.sandbox2, hosts.research].filter((h) => existsSync(path.join(h, '.lab', 'workspaces', runId)));
    expect(holders).toHaveLength(1);
    expect(holders[0]).not.toBe(hosts.research);
    expect(result.artifacts.experiment).toBeDefined();
    expect(readFileSync(path.join(s3.dataDir, s3.bucket, 'runs', runId, 'results', 'results.md'), 'utf8')).not.toMatch(/failed experiment/);
    // No host holds a local artifact store: every artifact is in the bucket.
    for (const h of Object.values(hosts)) expect(existsSync(path.join(h, '.lab', 'artifacts')), h).toBe(false);
    const names = storedNames(runId);
    for (const name of ['task.md', 'idea.md', 'proposal.md', 'paper.md', 'results/results.md']) expect(names).toContain(name);
    expect(names.some((n) => n.startsWith('experiment/steps/'))).toBe(true);
  }, 300_000);

  it('lab show and lab export read the run through the store from the CLI folder', async () => {
    const shown = await lab('show', runId, '--json');
    expect(shown.code, shown.stderr).toBe(0);
    const view = JSON.parse(shown.stdout);
    expect(view.folder).toBe(`s3://${s3.bucket}/runs/${runId}/`);
    expect(view.artifacts.paper).toBe(`s3://${s3.bucket}/runs/${runId}/paper.md`);
    expect(view.provenance?.path).toBe(`s3://${s3.bucket}/runs/${runId}/provenance.json`);

    const text = await lab('show', runId);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('paper.md');
    expect(text.stdout).toContain(readFileSync(path.join(s3.dataDir, s3.bucket, 'runs', runId, 'paper.md'), 'utf8').split('\n')[0]);

    const exported = await lab('export', runId, '--format', 'steps', '--out', 'steps.jsonl');
    expect(exported.code, exported.stderr).toBe(0);
    const lines = readFileSync(path.join(hosts.cli, 'steps.jsonl'), 'utf8').trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(JSON.parse(lines[0]).metadata.runId).toBe(runId);
  }, 120_000);

  it('lab judge --dir uploads a folder only the CLI host has, and the research host reviews it', async () => {
    const folder = path.join(hosts.cli, 'outside-agent');
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, 'task.md'), readFileSync(path.join(s3.dataDir, s3.bucket, 'runs', runId, 'task.md')));
    writeFileSync(path.join(folder, 'idea.md'), readFileSync(path.join(s3.dataDir, s3.bucket, 'runs', runId, 'idea.md')));
    const judged = await lab('judge', '--dir', folder, '--kind', 'idea', '--judge', model, '--json');
    expect(judged.code, judged.stderr).toBe(0);
    const [outcome] = JSON.parse(judged.stdout);
    expect(outcome.error).toBeUndefined();
    expect(existsSync(path.join(hosts.research, '.lab', 'uploads'))).toBe(true);
  }, 120_000);

  it('a 3-task benchmark with reviews completes, one of its tasks a folder only the CLI has, and lab report reads it from the CLI folder', async () => {
    // A task folder on the CLI's host only, named relative to its folder: it reaches the workers through the store.
    const cliOnly = path.join(hosts.cli, 'my-tasks', 'cli-only-task');
    mkdirSync(cliOnly, { recursive: true });
    writeFileSync(path.join(cliOnly, 'task.md'), readFileSync(path.join(PROJECT_ROOT, 'tasks', 'examples', 'calibration-under-shift', 'task.md'), 'utf8').replace(/^# .*/, '# Calibration under shift, asked from the CLI host only'));
    const tasks = 'small-lm-data-efficiency,reproducible-ml-pipelines,./my-tasks/cli-only-task';
    const started = await lab('bench', '--tasks', tasks, '--agent', model, '--judge', model, '--stages', 'idea', '--reviews', 'idea', '--detach', '--json');
    expect(started.code, started.stderr).toBe(0);
    const benchId = JSON.parse(started.stdout).benchId;
    const result = (await client.workflow.getHandle(benchId).result()) as BenchResult;
    expect(result, JSON.stringify(result.failures)).toMatchObject({ total: 3, done: 3, failed: 0 });
    const report = await lab('report', benchId, '--json', '--out', 'report');
    expect(report.code, report.stderr).toBe(0);
    const body = JSON.parse(report.stdout);
    expect(JSON.stringify(body)).toContain('idea');
    expect(existsSync(path.join(hosts.cli, 'report'))).toBe(true);
    for (const h of Object.values(hosts)) expect(existsSync(path.join(h, '.lab', 'artifacts')), h).toBe(false);
  }, 300_000);

  it('a run whose sandbox host stops answering goes on where it stopped when that host is the one claimed again', async () => {
    let holder = -1;
    const runId = await runHeldAtStepTwo(async (h) => {
      holder = h;
      // No sandbox host at all: the step waits, the probe is not taken, and the claim waits for a host.
      await Promise.all([sigkill(workers[1]), sigkill(workers[2])]);
    });
    await waitFor(
      async () => (await client.workflow.getHandle(`${runId}-experiment`).fetchHistory()).events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined,
      'the experiment to claim a host again',
      120_000,
    );
    // The lost host comes back (same name, same disk) and is the one that answers the claim.
    workers[1 + holder] = await startSandboxHost(holder);
    const result = (await client.workflow.getHandle(runId).result()) as ResearchRunResult;
    expect(result.status).toBe('completed');
    const resultsMd = readFileSync(path.join(s3.dataDir, s3.bucket, 'runs', runId, 'results', 'results.md'), 'utf8');
    expect(resultsMd).toContain('results produced');
    expect(resultsMd).not.toContain('Sandbox host lost');
    const transcript = readFileSync(path.join(s3.dataDir, s3.bucket, 'runs', runId, 'experiment', 'transcript.jsonl'), 'utf8').trim().split('\n');
    expect(transcript.map((l) => JSON.parse(l).step)).toEqual([1, 2, 3]);
    const { experimentId, lost, after } = await experimentHistories(runId);
    expect(activityTypes(lost).slice(-2)).toEqual(['envStep', 'sandboxHostAlive']);
    if (process.env.LAB_RECORD_HISTORIES) writeFileSync(path.join(FIXTURES, `experimentRun-host-back@${experimentId}.history.json`), fixtureJson(after, dir, '/tmp/lab-two-hosts'));
    // The same host again: no emptied workspace, the step decided again and run there.
    expect(activityTypes(after).slice(0, 3)).toEqual(['claimSandboxHost', 'decideExperimentStep', 'envStep']);
    expect(existsSync(path.join(SANDBOX_HOSTS[1 - holder].home, '.lab', 'workspaces', runId))).toBe(false);
    // The other host is back for the next test.
    workers[2 - holder] = await startSandboxHost(1 - holder);
  }, 300_000);

  it('a run whose sandbox host is killed for good starts its experiment over on the other host and completes', async () => {
    let holder = -1;
    const lostRunId = await runHeldAtStepTwo(async (h) => {
      holder = h;
      await sigkill(workers[1 + h]);
    });
    const result = (await client.workflow.getHandle(lostRunId).result()) as ResearchRunResult;
    expect(result.status).toBe('completed');
    const survivor = SANDBOX_HOSTS[1 - holder].home;
    expect(existsSync(path.join(survivor, '.lab', 'workspaces', lostRunId))).toBe(true);
    // The experiment started over there, and results.md says why.
    const resultsMd = readFileSync(path.join(s3.dataDir, s3.bucket, 'runs', lostRunId, 'results', 'results.md'), 'utf8');
    expect(resultsMd).toMatch(/\*\*Sandbox host lost:\*\* `sandbox@host-[ab]` stopped answering after step 1/);
    expect(resultsMd).toContain('results produced');
    // The results come from the survivor's workspace: the transcript holds only the new attempt's steps.
    const transcript = readFileSync(path.join(s3.dataDir, s3.bucket, 'runs', lostRunId, 'experiment', 'transcript.jsonl'), 'utf8').trim().split('\n');
    expect(transcript.map((l) => JSON.parse(l).step)).toEqual([1, 2, 3]);

    // In the experiment's history: the step timed out before it started, the probe was not taken,
    // and the execution continued as new, whose first sandbox step empties the workspace.
    const { experimentId, lost, after } = await experimentHistories(lostRunId);
    expect((lost.events ?? []).filter((e) => e.activityTaskTimedOutEventAttributes)).toHaveLength(2);
    expect(activityTypes(lost).slice(-2)).toEqual(['envStep', 'sandboxHostAlive']);
    expect(lost.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
    expect(activityTypes(after).slice(0, 2)).toEqual(['claimSandboxHost', 'emptyWorkspace']);
    if (process.env.LAB_RECORD_HISTORIES) {
      writeFileSync(path.join(FIXTURES, `experimentRun-lost-host@${experimentId}.history.json`), fixtureJson(lost, dir, '/tmp/lab-two-hosts'));
      writeFileSync(path.join(FIXTURES, `experimentRun-after-lost-host@${experimentId}.history.json`), fixtureJson(after, dir, '/tmp/lab-two-hosts'));
    }
  }, 300_000);
});
