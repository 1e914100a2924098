/**
 * Operating a worker pool (issue 18 items 4 and 6), on real processes: a dev server with a second
 * namespace, a `lab worker` and the `lab` CLI that find it only through a Temporal config file
 * profile (no TEMPORAL_ADDRESS), the worker's Prometheus metrics scraped over HTTP, its JSON log
 * lines read from its output, and the sandbox pool's advertised cores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { devServerArgs, waitForPort } from '../scripts/lib/devServer.js';
import { PROJECT_ROOT, temporalBinary } from '../scripts/lib/paths.js';
import { temporalTarget } from '../workers/temporalConfig.js';
import { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { recordedOutput, scriptedReply } from './fakes/recordedOutputs.js';
import { freePort, runLab, sigkill } from './helpers/labProcesses.js';
import { tempDir } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

const NAMESPACE = 'lab-team';
const dir = tempDir('observability');
const labHome = path.join(dir, 'home');
const configFile = path.join(dir, 'temporal.toml');
let port: number;
let metricsPort: number;
let server: ChildProcess | undefined;
let worker: ChildProcess | undefined;
let fake: FakeLlmServer;
let stdout = '';
let stderr = '';

/** The environment every lab process gets: the profile, and no TEMPORAL_* variable that would override it. */
function profileEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, LAB_HOME: labHome, LAB_ARTIFACT_DIR: path.join(labHome, 'artifacts') };
  for (const k of Object.keys(env)) if (k.startsWith('TEMPORAL_') || k.startsWith('LAB_S3_')) delete env[k];
  delete env.FORCE_COLOR;
  return { ...env, TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'team', ...extra };
}
/** runLab adds to process.env; pass every TEMPORAL_* key so none of the parent's leaks through. */
const lab = (args: string[], extra: NodeJS.ProcessEnv = {}) => runLab(args, profileEnv(extra));
const model = () => `openai-compatible:scripted@${fake.openaiBaseURL}`;

function spawnWorker(args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  return spawn(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs'), 'worker', ...args], { cwd: PROJECT_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A worker that should refuse to start: its exit code and all it printed. */
async function failedWorker(args: string[], extra: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  const child = spawnWorker(args, profileEnv(extra));
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  // One that starts anyway (the check is broken) is stopped, so the test fails on its output, not a timeout.
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

async function scrape(): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** Samples of a metric family (`name` or `name_bucket`/`_sum`/`_count`...) whose labels include all of `labels`. */
function samples(text: string, name: string, labels: Record<string, string>): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(name) && /^[a-z_]+[{ ]/.test(l))
    .filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
}

describe('a worker pool found through a config profile, with metrics and JSON logs', () => {
  beforeAll(async () => {
    [port, metricsPort] = [await freePort(), await freePort()];
    fake = await new FakeLlmServer((req) => ({ text: scriptedReply(req.prompt) ?? recordedOutput('idea'), delayMs: 10 })).start();
    fake.models = ['scripted'];
    // The profile `default` points nowhere: only the `team` profile (TEMPORAL_PROFILE) finds the server.
    writeFileSync(
      configFile,
      ['[profile.default]', 'address = "127.0.0.1:1"', '', '[profile.team]', `address = "127.0.0.1:${port}"`, `namespace = "${NAMESPACE}"`, ''].join('\n'),
    );
    const args = [...devServerArgs({ port, uiPort: 0, dbFile: path.join(dir, 'temporal.db'), headless: true }), '--namespace', NAMESPACE];
    const log = createWriteStream(path.join(dir, 'server.log'));
    server = spawn(temporalBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
    server.stdout!.pipe(log);
    server.stderr!.pipe(log);
    await waitForPort(port, 60_000, server);

    const workerLog = createWriteStream(path.join(dir, 'worker.log'));
    worker = spawnWorker(['--queues', 'research,llm.openai-compatible,sandbox,literature', '--metrics', `127.0.0.1:${metricsPort}`], profileEnv({
      LAB_LOG_FORMAT: 'json',
      LAB_SANDBOX_CONCURRENCY: '3',
      LAB_LITERATURE_BACKENDS: 'none',
      LAB_WORKSPACE_DIR: path.join(dir, 'workspaces'),
    }));
    worker.stdout!.on('data', (d: Buffer) => {
      stdout += d;
      workerLog.write(d);
    });
    worker.stderr!.on('data', (d: Buffer) => {
      stderr += d;
      workerLog.write(d);
    });
    await waitFor(
      async () => {
        if (worker!.exitCode !== null) throw new Error(`lab worker exited (code ${worker!.exitCode}):\n${stdout}${stderr}`);
        return /worker ready: sandbox/.test(stdout) && /worker metrics/.test(stdout);
      },
      `lab worker to get ready (see ${path.join(dir, 'worker.log')})`,
      120_000,
      200,
    );
  }, 180_000);

  afterAll(async () => {
    await sigkill(worker);
    await sigkill(server);
    await fake?.stop();
  });

  it('the worker and the CLI reach the profile\'s server and namespace; the sandbox worker says its cores', async () => {
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const ready = lines.map((l) => String(l.message));
    expect(ready).toContain(`worker ready: research (workflows + activities) on 127.0.0.1:${port} (namespace ${NAMESPACE}, profile team)`);
    expect(ready).toContain(`worker ready: sandbox (activities) cores=${os.availableParallelism()} concurrency=3`);
    // The Temporal UI's task queue view shows the same in the sandbox pollers' identity.
    const target = temporalTarget(profileEnv());
    const connection = await Connection.connect(target.connection);
    try {
      const { pollers } = await connection.workflowService.describeTaskQueue({
        namespace: NAMESPACE,
        taskQueue: { name: 'sandbox' },
        taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      expect(pollers?.map((p) => p.identity)).toContain(`sandbox:${worker!.pid}@${os.hostname()} cores=${os.availableParallelism()} concurrency=3`);
    } finally {
      await connection.close();
    }

    const id = `obs-gated-${process.pid}`;
    const r = await lab(['run', 'calibration-under-shift', '--model', model(), '--gate', 'idea', '--no-preflight', '--id', id]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`run ${id} waits at the idea gate`);
    // The run lives in the profile's namespace: the same server's default namespace has no such run.
    expect((await lab(['status', id])).stdout).toMatch(/waits at the idea gate|awaiting|idea/);
    const elsewhere = await runLab(['status', id], { ...profileEnv(), TEMPORAL_CONFIG_FILE: '', TEMPORAL_PROFILE: '', TEMPORAL_ADDRESS: `127.0.0.1:${port}` });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain(`no run with id "${id}"`);
    // TEMPORAL_ADDRESS overrides the profile's address, as in the Temporal CLI: pointing it nowhere fails.
    const overridden = await lab(['status', id], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toMatch(/^lab status: cannot reach Temporal at 127\.0\.0\.1:1 .*profile "team"/);
    expect((await lab(['reject', id, '--stage', 'idea'])).code).toBe(0);
  }, 120_000);

  it('LAB_LOG_FORMAT=json: every line is one JSON object; an activity\'s line names its run, stage and activity type', async () => {
    const id = `obs-budget-${process.pid}`;
    // 50 tokens pay for no stage's call: the idea stage's activity stops with a WARN line.
    const r = await lab(['run', 'calibration-under-shift', '--model', model(), '--max-tokens', '50', '--no-preflight', '--id', id]);
    expect(r.stdout, r.stderr).toMatch(/status budget_exhausted/);
    const line = await waitFor(
      async () =>
        stderr
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find((l) => l.runId === id && String(l.message).startsWith('Activity stopped: budget exhausted')),
      'the budget stop in the worker log',
      30_000,
      200,
    );
    expect(line).toMatchObject({ level: 'WARN', runId: id, stage: 'idea', activityType: 'runStage', attempt: 1 });
    expect(new Date(String(line.time)).toISOString()).toBe(line.time);
    expect(Object.keys(line).slice(0, 6)).toEqual(['time', 'level', 'message', 'runId', 'stage', 'activityType']);
    // Nothing of the worker's output is outside a JSON line.
    for (const l of `${stdout}${stderr}`.split('\n').filter(Boolean)) expect(() => JSON.parse(l), l).not.toThrow();
  }, 120_000);

  it('serves Prometheus metrics per task queue, under the names the README lists', async () => {
    // A workflow type no worker has: each of its workflow tasks fails, as a non-deterministic change would.
    const target = temporalTarget(profileEnv());
    const connection = await Connection.connect(target.connection);
    const client = new Client({ connection, namespace: target.namespace });
    const handle = await client.workflow.start('noSuchWorkflow', { taskQueue: 'research', workflowId: `obs-unknown-${process.pid}` });
    let text = '';
    try {
      text = await waitFor(
        async () => {
          const t = await scrape();
          return samples(t, 'temporal_workflow_task_execution_failed', { namespace: NAMESPACE, task_queue: 'research', workflow_type: 'noSuchWorkflow' }).length ? t : undefined;
        },
        'a failed workflow task in the metrics',
        30_000,
        250,
      );
    } finally {
      await handle.terminate('test done');
      await connection.close();
    }
    writeFileSync(path.join(dir, 'metrics.txt'), text);
    const families = [...new Set(text.split('\n').filter((l) => l.startsWith('# TYPE')).map((l) => l.split(' ').slice(2).join(' ')))].sort();
    console.log(`metric families served:\n  ${families.join('\n  ')}`);
    const ns = { namespace: NAMESPACE };
    // The three the README tells an operator to watch first.
    expect(samples(text, 'temporal_workflow_task_schedule_to_start_latency_bucket', { ...ns, task_queue: 'research' }).length).toBeGreaterThan(0);
    expect(samples(text, 'temporal_activity_schedule_to_start_latency_bucket', { ...ns, task_queue: 'llm.openai-compatible' }).length).toBeGreaterThan(0);
    expect(samples(text, 'temporal_activity_schedule_to_start_latency_bucket', { ...ns, task_queue: 'sandbox' }).length).toBeGreaterThan(0);
    expect(samples(text, 'temporal_workflow_task_execution_failed', { ...ns, task_queue: 'research', workflow_type: 'noSuchWorkflow' })[0]).toMatch(/failure_reason="[^"]+"/);
    // The budget stop is an activity failure: the failure counter counts it, by activity type and queue.
    const failed = samples(text, 'temporal_activity_execution_failed', { ...ns, task_queue: 'llm.openai-compatible', activity_type: 'runStage' });
    expect(failed.length, families.join(' ')).toBe(1);
    expect(Number(failed[0].split(' ').pop())).toBeGreaterThanOrEqual(1);
    // Saturation: the sandbox pool's free slots are its LAB_SANDBOX_CONCURRENCY.
    expect(samples(text, 'temporal_worker_task_slots_available', { ...ns, task_queue: 'sandbox', worker_type: 'ActivityWorker' })[0]).toMatch(/ 3$/);
    expect(samples(text, 'temporal_workflow_task_execution_latency_count', { ...ns, task_queue: 'research', workflow_type: 'researchRun' }).length).toBe(1);
  }, 60_000);

  it('a wrong setting stops the worker with one line naming it, before it connects', async () => {
    const taken = await failedWorker(['--queues', 'sandbox'], { LAB_METRICS_ADDRESS: `127.0.0.1:${metricsPort}` });
    expect(taken.code).toBe(2);
    expect(taken.output.trim()).toBe(`lab worker: LAB_METRICS_ADDRESS 127.0.0.1:${metricsPort}: cannot serve metrics there (Address already in use)`);

    const cases: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [['--metrics', 'metrics.local'], {}, 'lab worker: --metrics must be ip:port (e.g. 127.0.0.1:9464, or 0.0.0.0:9464 for other hosts to scrape), got "metrics.local"'],
      [[], { LAB_METRICS_ADDRESS: '127.0.0.1:99999' }, 'lab worker: LAB_METRICS_ADDRESS must be ip:port (e.g. 127.0.0.1:9464, or 0.0.0.0:9464 for other hosts to scrape), got "127.0.0.1:99999"'],
      [[], { LAB_LOG_FORMAT: 'xml' }, 'lab worker: LAB_LOG_FORMAT must be text or json, got "xml"'],
      [[], { TEMPORAL_PROFILE: 'staging' }, `lab worker: TEMPORAL_PROFILE: no profile "staging" in ${configFile} (it has: default, team)`],
    ];
    for (const [args, env, line] of cases) {
      const r = await failedWorker(['--queues', 'sandbox', ...args], env);
      // A bad flag is a usage error: its line, then the usage.
      expect(r.output.trim().split('\n')[0]).toBe(line);
      expect(r.code).toBe(2);
    }
  }, 180_000);
});
