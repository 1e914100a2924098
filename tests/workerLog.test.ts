/**
 * What a user sees in a real `lab worker`'s terminal (issue 15 item 11): the worker started as a
 * user starts it (`node scripts/lab.mjs worker`, its stdout and stderr piped, as into a log file)
 * against a real dev server, runs started with the real `lab run` on a scripted LLM.
 *
 * - An expected budget stop is one WARN line saying so, without the error's stack.
 * - While the dev server is down (SIGKILLed, then restarted on the same port and database), the SDK
 *   core's complaints come through the lab's logger: no ANSI colour codes, no raw Rust tracing lines,
 *   one readable line per complaint (not one a second), and the worker works again once it is back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnDevServer, waitForPort } from '../scripts/lib/devServer.js';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { oneLineLogFunction } from '../workers/createWorkers.js';
import { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { recordedOutput, scriptedReply } from './fakes/recordedOutputs.js';
import { freePort, runLab, sigkill } from './helpers/labProcesses.js';
import { tempDir } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

const dir = tempDir('worker-log');
const labHome = path.join(dir, 'home');
const artifacts = path.join(labHome, 'artifacts');
const dbFile = path.join(dir, 'temporal.db');
let port: number;
let server: ChildProcess | undefined;
let worker: ChildProcess | undefined;
let fake: FakeLlmServer;
/** Everything the worker printed, stdout and stderr interleaved as a terminal shows them. */
let output = '';

const env = () => ({ TEMPORAL_ADDRESS: `127.0.0.1:${port}`, LAB_HOME: labHome, LAB_ARTIFACT_DIR: artifacts });
const lab = (...args: string[]) => runLab(args, env());
const model = () => `openai-compatible:scripted@${fake.openaiBaseURL}`;

/** A stack frame line, as util.inspect prints an Error's stack. */
const STACK_LINE = /^\s+at /m;
// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[/;
/**
 * The Rust core's own tracing output, colour codes taken out: `<time>  WARN temporalio_client::retry:
 * gRPC call ... error=Status { code: Unavailable, ... }`; its level and module path, a crate path
 * anywhere, or the debug dump of a gRPC status.
 */
const RUST_LINE = /^\S*\s*(TRACE|DEBUG|INFO|WARN|ERROR)\s+\w+(::\w+)+: |\btemporal(io)?_\w+::|error=Status \{/m;
// eslint-disable-next-line no-control-regex
const withoutAnsi = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

function startDevServer(): Promise<void> {
  server = spawnDevServer({ port, uiPort: 0, dbFile, headless: true, logFile: path.join(dir, 'server.log') });
  return waitForPort(port, 60_000, server);
}

/** `lab worker` as a user starts it; resolves once every queue is ready. */
async function startWorker(): Promise<ChildProcess> {
  const log = createWriteStream(path.join(dir, 'worker.log'), { flags: 'a' });
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    ...env(),
    LAB_LITERATURE_BACKENDS: 'none',
    LAB_WORKSPACE_DIR: path.join(dir, 'workspaces'),
  };
  // Output piped into a file or another program: no colour asked for.
  delete childEnv.FORCE_COLOR;
  delete childEnv.LAB_WORKER_QUEUES;
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs'), 'worker'], { cwd: PROJECT_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const take = (d: Buffer) => {
    output += d.toString();
    log.write(d);
  };
  child.stdout!.on('data', take);
  child.stderr!.on('data', take);
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`lab worker exited early (code ${child.exitCode}):\n${output}`);
      return /worker ready: research/.test(output) && /worker ready: llm/.test(output) && /worker ready: sandbox/.test(output);
    },
    `lab worker to get ready (see ${path.join(dir, 'worker.log')})`,
    120_000,
    200,
  );
  return child;
}

describe('lab worker output', () => {
  beforeAll(async () => {
    port = await freePort();
    fake = await new FakeLlmServer((req) => ({ text: scriptedReply(req.prompt) ?? recordedOutput('idea'), delayMs: 10 })).start();
    fake.models = ['scripted'];
    await startDevServer();
    worker = await startWorker();
  }, 180_000);

  afterAll(async () => {
    await sigkill(worker);
    await sigkill(server);
    await fake?.stop();
  });

  it('an expected budget stop is one WARN line naming the run, without a stack trace', async () => {
    const id = `worker-log-budget-${process.pid}`;
    const mark = output.length;
    // 50 tokens pay for no stage's call: the idea stage's activity stops with BudgetExhausted.
    const r = await lab('run', 'calibration-under-shift', '--model', model(), '--max-tokens', '50', '--no-preflight', '--id', id);
    expect(r.stdout, r.stderr).toMatch(/status budget_exhausted/);
    const status = await lab('status', id);
    expect(status.stdout).toMatch(/budget_exhausted/);
    expect(fake.requests.length).toBe(0);

    // The worker logs the activity's end before it reports it, so before the run ends; give the pipe a moment.
    await waitFor(async () => output.slice(mark).includes('50 tokens left'), 'the budget stop in the worker output', 30_000, 200);
    await new Promise((r) => setTimeout(r, 500));
    const printed = output.slice(mark);
    const line = /^.*budget exhausted: 50 tokens left.*$/m.exec(printed)![0];
    // One line: the level, what happened, the gateway's reason, and which activity of which run.
    expect(line).toMatch(
      new RegExp(String.raw`^\S+ \[WARN\] Activity stopped: budget exhausted \(budget exhausted: 50 tokens left, the next .+\) \{ activityType: 'runStage', workflowId: '${id}', attempt: 1 \}$`),
    );
    expect(printed.match(/budget exhausted \(/g)).toHaveLength(1);
    // Nothing else spills onto lines of their own (the SDK's formatting spread this meta over four more).
    for (const l of printed.split('\n').filter(Boolean)) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z \[(WARN|ERROR)\] /);
    expect(printed).not.toMatch(STACK_LINE);
    expect(printed).not.toContain('Activity failed');
    expect(printed).not.toContain('ApplicationFailure');
  }, 120_000);

  it('while the dev server is down: no colour codes, no raw Rust lines, each complaint once in one line; then it works again', async () => {
    const mark = output.length;
    await sigkill(server);
    // Down for a while: the pollers retry about once a second, each retry a core warning.
    await new Promise((r) => setTimeout(r, 15_000));
    const duringOutage = output.slice(mark);
    await startDevServer();

    // It said, in the lab's log format, that its polls cannot reach the server: the core's message
    // and the gist of its error (the OS error kind), not the Rust debug dump of the error.
    expect(duringOutage, duringOutage).toMatch(
      /^\S+ \[WARN\] gRPC call poll_(workflow|activity)_task_queue retried \d+ times: .*ConnectionRefused \{ sdkComponent: 'core' \}$/m,
    );
    expect(duringOutage).not.toMatch(ANSI);
    expect(withoutAnsi(duringOutage)).not.toMatch(RUST_LINE);
    expect(duringOutage).not.toMatch(STACK_LINE);
    // Each printed line is one logger line (no multi-line debug dump of the error's fields) ...
    const lines = duringOutage.split('\n').filter(Boolean);
    for (const l of lines) expect(l).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z \[(WARN|ERROR)\] /);
    // ... and a complaint repeated every second is shown once (a count of retries aside).
    const shapes = lines.map((l) => l.replace(/^\S+ /, '').replace(/\d+/g, '#'));
    expect(new Set(shapes).size, duringOutage).toBe(shapes.length);
    expect(worker!.exitCode).toBeNull();

    // Back on the same port and database, the same worker runs a short run to its end: its idea stage
    // (a workflow task and an LLM activity), then a rejection at the idea gate.
    const id = `worker-log-after-${process.pid}`;
    const r = await lab('run', 'calibration-under-shift', '--model', model(), '--gate', 'idea', '--no-preflight', '--id', id);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`run ${id} waits at the idea gate`);
    const rejected = await lab('reject', id, '--stage', 'idea');
    expect(rejected.code, rejected.stderr).toBe(0);
    const status = await waitFor(
      async () => {
        const s = await lab('status', id);
        return /^status rejected/m.test(s.stdout) ? s : undefined;
      },
      'the run to end',
      60_000,
      1000,
    );
    expect(status.stdout).toMatch(/^status rejected at the idea gate/m);
    const after = output.slice(mark);
    expect(after).not.toMatch(ANSI);
    expect(withoutAnsi(after)).not.toMatch(RUST_LINE);
    expect(after).not.toMatch(STACK_LINE);
  }, 150_000);
});

describe('oneLineLogFunction', () => {
  it('prints the meta on the log line however long it is, keeps an error\'s stack, and no colours into a pipe', () => {
    const written: string[] = [];
    const stream = { isTTY: false, write: (s: string) => written.push(s) } as unknown as NodeJS.WriteStream;
    const timestampNanos = BigInt(Date.UTC(2026, 0, 2, 3, 4, 5, 678)) * 1_000_000n;
    const meta = { activityType: 'runStage', workflowId: 'calibration-under-shift-0a1b2c', attempt: 1, nested: { a: [1, 2, 3], b: 'x'.repeat(100) } };
    oneLineLogFunction({ level: 'WARN', message: 'Activity stopped', meta, timestampNanos }, stream);
    expect(written).toEqual([
      `2026-01-02T03:04:05.678Z [WARN] Activity stopped { activityType: 'runStage', workflowId: 'calibration-under-shift-0a1b2c', attempt: 1, nested: { a: [ 1, 2, 3 ], b: '${'x'.repeat(100)}' } }\n`,
    ]);
    oneLineLogFunction({ level: 'ERROR', message: 'no meta', timestampNanos }, stream);
    expect(written[1]).toBe('2026-01-02T03:04:05.678Z [ERROR] no meta\n');
    // An unexpected failure still shows where it came from.
    oneLineLogFunction({ level: 'WARN', message: 'Activity failed', meta: { error: new Error('boom') }, timestampNanos }, stream);
    expect(written[2]).toMatch(/^\S+ \[WARN\] Activity failed \{ error: Error: boom\n\s+at /);
    expect(written.join('')).not.toMatch(ANSI);
  });
});
