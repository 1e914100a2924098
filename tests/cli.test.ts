/**
 * The `lab` command line as a user runs it (a real process), against a real dev server:
 * bad input gives one clear line and a non-zero exit and starts nothing; the happy path works.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { scriptedReply, stageOfPrompt } from './fakes/recordedOutputs.js';
import { createDevServerEnv, startTestLab, tempDir, type TestLab } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';
import type { RunProgress } from '../common/schemas.js';
import { LAB_STAGE, LAB_STATUS, LAB_TASK } from '../common/searchAttributes.js';
import { explainReviewFailure } from '../scripts/lib/runs.js';

let env: TestWorkflowEnvironment;
let lab: TestLab;
let fake: FakeLlmServer;
const dir = tempDir('cli');
const labHome = path.join(dir, 'lab');
let slowReplies = false;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function lab$(...args: string[]): Promise<CliResult> {
  return labWithInput(undefined, ...args);
}

/** `lab` as a user starts it: `node scripts/lab.mjs ...` (default) or `npx lab ...`. */
function spawnLab(args: string[], o: { via?: 'node' | 'npx'; stdin?: boolean; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
  const [cmd, pre] = o.via === 'npx' ? ['npx', ['--no-install', 'lab']] : [process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs')]];
  return spawn(cmd, [...pre, ...args], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: env.address,
      LAB_HOME: labHome,
      // The in-process test workers write here, so `lab show` reads the same artifacts.
      LAB_ARTIFACT_DIR: lab.store.root,
      ...o.env,
    },
    stdio: [o.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
}

function collect(child: ChildProcess): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) =>
    // 'close' (all output read), not 'exit' (the process ended, its last output maybe still in the pipe).
    child.on('close', (code, signal) => {
      child.stdin?.destroy();
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    }),
  );
}

/** Runs `lab` with `stdin` written to its standard input (what a person would type). */
function labWithInput(stdin: string | undefined, ...args: string[]): Promise<CliResult> {
  const child = spawnLab(args, { stdin: stdin !== undefined });
  if (stdin !== undefined) child.stdin!.write(stdin);
  return collect(child);
}

function labVia(via: 'node' | 'npx', args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<CliResult> {
  return collect(spawnLab(args, { via, env: extraEnv }));
}

async function runIds(): Promise<string[]> {
  const ids: string[] = [];
  for await (const w of env.client.workflow.list({ query: `WorkflowType = 'researchRun'` })) ids.push(w.workflowId);
  return ids.sort();
}

/** A usage error: exit 2, exactly one line on stderr that says what is wrong. */
function expectUsageError(r: CliResult, message: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split('\n')[0]).toMatch(message);
  expect(r.stdout).toBe('');
}

beforeAll(async () => {
  fake = await new FakeLlmServer((req) => ({ text: scriptedReply(req.prompt)!, delayMs: slowReplies ? 30_000 : 10 })).start();
  env = await createDevServerEnv();
  lab = await startTestLab(env, dir);
});

afterAll(async () => {
  await fake?.stop();
  await lab?.shutdown();
  await env?.teardown();
});

describe('lab CLI: bad input', () => {
  it('rejects each bad input with one clear line and starts nothing', async () => {
    const emptyTask = path.join(dir, 'empty-task');
    mkdirSync(emptyTask, { recursive: true });
    writeFileSync(path.join(emptyTask, 'task.md'), '  \n');
    const noTaskFile = path.join(dir, 'no-task-file');
    mkdirSync(noTaskFile, { recursive: true });
    const binaryTask = path.join(dir, 'binary-task');
    mkdirSync(binaryTask, { recursive: true });
    writeFileSync(path.join(binaryTask, 'task.md'), Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    const nulTask = path.join(dir, 'nul-task');
    mkdirSync(nulTask, { recursive: true });
    writeFileSync(path.join(nulTask, 'task.md'), '# A task\n\nvalid UTF-8, but with a NUL\u0000 byte inside\n');
    const escaped = path.join(dir, 'escaped-run');

    const results = await Promise.all([
      lab$('run'),
      lab$('run', 'no-such-task'),
      lab$('run', emptyTask),
      lab$('run', noTaskFile),
      lab$('run', binaryTask),
      lab$('run', 'calibration-under-shift', '--gate', 'idea,bogus'),
      lab$('run', 'calibration-under-shift', '--model', 'foo:bar'),
      lab$('run', 'calibration-under-shift', '--budget-usd=-3'),
      lab$('run', 'calibration-under-shift', '--bogus-flag'),
      lab$('revise', 'some-run'),
      lab$('run', 'calibration-under-shift', '--gate', 'idea', '--gate-timeout', 'soon'),
      // Item by item, the inputs a new user tried that used to start a run or leak a stack of text:
      lab$('run', 'calibration-under-shift', '--id', `../../${path.basename(dir)}/escaped-run`),
      lab$('run', 'calibration-under-shift', '--id', 'a/b'),
      lab$('run', 'calibration-under-shift', '--budget-usd', '-1'),
      lab$('run', 'calibration-under-shift', '--max-tokens', '-5'),
      lab$('run', 'calibration-under-shift', '--gate', 'idea,,paper'),
      lab$('run', 'calibration-under-shift', '--gate', 'idea,idea'),
      lab$('run', 'calibration-under-shift', '--model', 'openai-compatible:@http://127.0.0.1:9/v1'),
      lab$('run', 'calibration-under-shift', '--model', 'openai-compatible:m@'),
      lab$('run', 'calibration-under-shift', '--model', 'embedded:/no/such/model.gguf'),
      lab$('run', nulTask),
      lab$('run', 'calibration-under-shift', '--max-revisions', '2'),
      lab$('run', 'calibration-under-shift', '--gate', 'idea', '--on-timeout', 'reject'),
      lab$('run', 'calibration-under-shift', '--gate-timeout', '0'),
      lab$('run', 'calibration-under-shift', '--reasoning-effort', 'extreme'),
      lab$('list', '--status', 'finished'),
      lab$('list', '--limit', '0'),
      lab$('server', '--port', '70000'),
      lab$('worker', '--queues', 'research,,llm'),
      lab$('worker', '--queues', 'gpu'),
      lab$('status', ''),
      lab$('run', 'calibration-under-shift', '--host-wait', 'forever'),
      lab$('run', 'calibration-under-shift', '--host-wait', '2d'),
    ]);
    expectUsageError(results[0], /missing task/);
    expectUsageError(results[1], /task not found: "no-such-task"/);
    expectUsageError(results[2], /task\.md is empty/);
    expectUsageError(results[3], /has no task\.md/);
    expectUsageError(results[4], /not valid UTF-8/);
    expectUsageError(results[5], /unknown stage "bogus"/);
    expectUsageError(results[6], /unknown model spec "foo:bar"/);
    expectUsageError(results[7], /--budget-usd must be a positive number/);
    expectUsageError(results[8], /^lab run: unknown option "--bogus-flag" \(see lab run --help\)$/);
    expectUsageError(results[9], /revise needs --feedback/);
    expectUsageError(results[10], /--gate-timeout must be a duration like 90s/);
    expectUsageError(results[11], /--id ".*escaped-run" is not a valid run id/);
    expectUsageError(results[12], /--id "a\/b" is not a valid run id/);
    expectUsageError(results[13], /^lab run: --budget-usd must be a positive number, got "-1"$/);
    expectUsageError(results[14], /^lab run: --max-tokens must be a whole number ≥ 1, got "-5"$/);
    expectUsageError(results[15], /--gate has an empty item in "idea,,paper"/);
    expectUsageError(results[16], /--gate lists "idea" twice/);
    expectUsageError(results[17], /names no model before "@"/);
    expectUsageError(results[18], /has no base URL after "@"/);
    expectUsageError(results[19], /embedded model file not found: \/no\/such\/model\.gguf/);
    expectUsageError(results[20], /task\.md is not prose: it holds control character U\+0000 on line 3/);
    expectUsageError(results[21], /--max-revisions applies to gates: add --gate/);
    expectUsageError(results[22], /--on-timeout needs --gate-timeout/);
    expectUsageError(results[23], /--gate-timeout must be a duration/);
    expectUsageError(results[24], /--reasoning-effort must be one of low, medium, high, got "extreme"/);
    expectUsageError(results[25], /--status must be one of running, awaiting_review, .*, got "finished"/);
    expectUsageError(results[26], /--limit must be a whole number from 1 to 1000, got "0"/);
    expectUsageError(results[27], /--port must be a whole number from 1 to 65535/);
    expectUsageError(results[28], /--queues has an empty item/);
    expectUsageError(results[29], /unknown queue "gpu"/);
    expectUsageError(results[30], /is not a run id/);
    expectUsageError(results[31], /^lab run: --host-wait must be a duration like 90s, 30m, 2h or 1d, got "forever"$/);
    expectUsageError(results[32], /^lab run: --host-wait is at most 1d$/);
    // Each refusal is one line of reason, then at most the command's usage: no parser stack, nothing else.
    for (const r of results) expect(r.stderr.trim().split('\n').slice(1).join('\n'), r.stderr).toMatch(/^(usage: lab [\s\S]*)?$/);
    expect(await runIds()).toEqual([]);
    // Nothing was written for the refused path-like id: not the escaped folder, not a run folder.
    expect(existsSync(escaped)).toBe(false);
    expect(existsSync(path.join(lab.store.root, 'runs')) ? readdirSync(path.join(lab.store.root, 'runs')) : []).toEqual([]);
  });

  it('unknown run ids and reviews without a pending gate fail clearly', async () => {
    const status = await lab$('status', 'no-such-run');
    expect(status.code).toBe(1);
    expect(status.stderr.trim()).toBe('lab status: no run with id "no-such-run" (see `lab list`)');
    const approveUnknown = await lab$('approve', 'no-such-run');
    expect(approveUnknown.stderr.trim()).toBe('lab approve: no run with id "no-such-run" (see `lab list`)');

    // A run busy in its first stage (slow LLM) has no gate pending.
    slowReplies = true;
    const started = await lab$('run', 'calibration-under-shift', '--gate', 'paper', '--detach', '--json', '--model', `openai-compatible:m@${fake.openaiBaseURL}`);
    expect(started.code).toBe(0);
    const { runId } = JSON.parse(started.stdout);
    await waitFor(async () => fake.requests.length > 0 || undefined, 'the first LLM call');
    const approve = await lab$('approve', runId);
    expect(approve.code).toBe(1);
    expect(approve.stderr.trim()).toBe(`lab approve: run "${runId}": no stage is waiting for review in this run`);
    await env.client.workflow.getHandle(runId).terminate('test done');
    slowReplies = false;
  });

  it('every command answers --help', async () => {
    const commands = ['server', 'worker', 'run', 'status', 'list', 'approve', 'revise', 'reject', 'resume', 'show', 'tasks'];
    const results = await Promise.all(commands.map((c) => lab$(c, '--help')));
    results.forEach((r, i) => {
      expect(r.code, commands[i]).toBe(0);
      expect(r.stdout).toContain(`usage: lab ${commands[i]}`);
    });
    const top = await lab$('--help');
    expect(top.code).toBe(0);
    for (const c of commands) expect(top.stdout).toContain(`  ${c}`);
  });
});

describe('lab CLI: a gated run from start to paper', () => {
  it('run --detach, status, list, approve, show', async () => {
    const model = `openai-compatible:scripted@${fake.openaiBaseURL}`;
    const started = await lab$('run', 'small-lm-data-efficiency', '--gate', 'idea', '--model', model, '--detach', '--json');
    expect(started.code).toBe(0);
    const { runId } = JSON.parse(started.stdout);

    await waitFor(async () => {
      const s = await lab$('status', runId, '--json');
      return JSON.parse(s.stdout).progress?.pendingGate?.stage === 'idea' || undefined;
    }, 'the idea gate');
    const listed = await lab$('list', '--status', 'awaiting_review', '--json');
    expect(JSON.parse(listed.stdout).map((r: { runId: string }) => r.runId)).toContain(runId);
    const human = await lab$('status', runId, '--once');
    expect(human.stdout).toContain('waiting for review of idea');
    expect(human.stdout).toContain(`lab approve ${runId}`);

    const approved = await lab$('approve', runId);
    expect(approved.stdout.trim()).toBe('approve idea: continuing with literature');
    await env.client.workflow.getHandle(runId).result();

    const shown = await lab$('show', runId);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('status completed');
    expect(shown.stdout).toContain(path.join('runs', runId, 'paper.md'));
    expect(shown.stdout).toContain('paper.md =====');
    const byTask = await lab$('list', '--task', 'small-lm-data-efficiency', '--status', 'completed', '--json');
    expect(JSON.parse(byTask.stdout)).toEqual([expect.objectContaining({ runId, status: 'completed', model })]);
  });
});

describe('lab CLI: deciding gates at the terminal', () => {
  it('lab run --interactive asks at each gate: revise with feedback, approve, then reject', async () => {
    const model = `openai-compatible:scripted@${fake.openaiBaseURL}`;
    const typed = ['r', 'Name the datasets.', 'a', 'j', ''].join('\n');
    const r = await labWithInput(typed, 'run', 'calibration-under-shift', '--gate', 'idea,paper', '--model', model, '--interactive');
    // stderr with each: a run that ends early says why there.
    expect(r.stdout, r.stderr).toContain('idea is ready for review');
    expect(r.stdout, r.stderr).toContain('revise idea: re-running idea with your feedback (revision 1 of 3)');
    expect(r.stdout, r.stderr).toContain('approve idea: continuing with literature');
    expect(r.stdout, r.stderr).toContain('reject paper: run ends as rejected; its artifacts are kept');
    expect(r.stdout).toContain('status rejected');
    expect(r.stdout.match(/^status /gm)).toHaveLength(1);
    expect(r.code).toBe(4); // rejected: stopped by a decision, documented exit code 4
    const revised = fake.requests.find((q) => q.prompt.includes('Name the datasets.'));
    expect(revised && stageOfPrompt(revised.prompt)).toBe('idea');
  });
});

const model = () => `openai-compatible:scripted@${fake.openaiBaseURL}`;

async function startDetached(...args: string[]): Promise<string> {
  const r = await lab$('run', ...args, '--model', model(), '--detach', '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).runId;
}

async function waitForGate(runId: string, stage: string, revisionsUsed = 0) {
  return waitFor(async () => {
    const p = await env.client.workflow.getHandle(runId).query<RunProgress>('progress');
    return p.pendingGate?.stage === stage && p.pendingGate.revisionsUsed === revisionsUsed ? p : undefined;
  }, `gate at ${stage}`);
}

describe('lab CLI: entry point', () => {
  it('starts exactly one run however it is invoked (node scripts/lab.mjs and npx lab)', async () => {
    const task = 'reproducible-ml-pipelines';
    const count = async () => {
      let n = 0;
      for await (const _ of env.client.workflow.list({ query: `WorkflowType = 'researchRun' AND LabTask = '${task}'` })) n++;
      return n;
    };
    const before = await count();
    const [viaNode, viaNpx] = await Promise.all([
      labVia('node', ['run', task, '--gate', 'idea', '--model', model(), '--detach', '--json']),
      labVia('npx', ['run', task, '--gate', 'idea', '--model', model(), '--detach', '--json']),
    ]);
    expect(viaNode.code, viaNode.stderr).toBe(0);
    expect(viaNpx.code, viaNpx.stderr).toBe(0);
    const ids = [JSON.parse(viaNode.stdout).runId, JSON.parse(viaNpx.stdout).runId];
    // Visibility is eventually consistent: wait until both show, then make sure no third appears.
    await waitFor(async () => (await count()) >= before + 2 || undefined, 'both runs listed');
    await new Promise((r) => setTimeout(r, 1500));
    expect(await count()).toBe(before + 2);
    await Promise.all(ids.map((id) => env.client.workflow.getHandle(id).terminate('test done')));
  });
});

describe('lab CLI: status', () => {
  it('prints a run waiting at a gate once and exits (no TTY, no --follow); the header appears once', async () => {
    const runId = await startDetached('calibration-under-shift', '--gate', 'idea');
    await waitForGate(runId, 'idea');
    const started = Date.now();
    const r = await lab$('status', runId);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('waiting for review of idea');
    expect(r.stdout.match(/^run /gm)).toHaveLength(1);
    expect(r.stdout.match(/^status /gm)).toHaveLength(1);
    await env.client.workflow.getHandle(runId).terminate('test done');
  });

  it('counts a stage’s working time, not the time its output waited at the gate (revisions included)', async () => {
    const runId = await startDetached('calibration-under-shift', '--gate', 'idea');
    await waitForGate(runId, 'idea');
    await new Promise((r) => setTimeout(r, 3000)); // a person reads the idea
    expect((await lab$('revise', runId, '--feedback', 'Sharper title.')).code).toBe(0);
    await waitForGate(runId, 'idea', 1);
    expect((await lab$('approve', runId)).code).toBe(0);
    await env.client.workflow.getHandle(runId).result();
    const r = await lab$('status', runId, '--json');
    const idea = JSON.parse(r.stdout).progress.stages[0];
    expect(idea.runs).toBe(2);
    expect(idea.workMs).toBeLessThan(2500);
    const text = await lab$('status', runId);
    expect(text.stdout).toMatch(/✓ idea\s+done\s+[0-2]s/);
    // A finished run: one header, one status line, and exit code 0 for completed.
    expect(text.code).toBe(0);
    expect(text.stdout.match(/^status /gm)).toHaveLength(1);
    expect(text.stdout).not.toMatch(/completed \(completed\)/);
  });

  it('exits 3 for a failed run and 4 for a rejected one', async () => {
    const failedId = `cli-failed-${Date.now()}`;
    const handle = await env.client.workflow.start('researchRun', { taskQueue: 'research', workflowId: failedId, args: [{ task: { name: 'x' }, model: '' }] });
    await handle.result().catch(() => undefined);
    const failed = await lab$('status', failedId);
    expect(failed.code).toBe(3);
    expect(failed.stdout).toMatch(/^status failed/m);
    expect(failed.stdout).toContain('invalid research run input');

    const rejectedId = await startDetached('calibration-under-shift', '--gate', 'idea');
    await waitForGate(rejectedId, 'idea');
    expect((await lab$('reject', rejectedId)).code).toBe(0);
    await env.client.workflow.getHandle(rejectedId).result();
    const rejected = await lab$('status', rejectedId);
    expect(rejected.code).toBe(4);
    expect(rejected.stdout).toMatch(/^status rejected/m);
  });

  it('shows the finished stages from the run’s memo while no worker answers', async () => {
    const done = await lab.store.put('cli-memo-source', 'idea.md', '# An idea\n');
    const runId = `cli-no-worker-${Date.now()}`;
    // A queue no worker polls: the run is open, but nobody can answer the progress query.
    await env.client.workflow.start('researchRun', {
      taskQueue: 'nobody-polls-this',
      workflowId: runId,
      args: [{}],
      memo: { completed: { idea: { artifact: done, extra: [], usage: { llmCalls: 1, inputTokens: 10, outputTokens: 20, costUsd: 0 }, model: 'm', calls: [] } } },
      typedSearchAttributes: [
        { key: LAB_TASK, value: 'calibration-under-shift' },
        { key: LAB_STATUS, value: 'running' },
        { key: LAB_STAGE, value: 'literature' },
      ],
    });
    const r = await lab$('status', runId);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('no worker answered');
    expect(r.stdout).toMatch(/✓ idea\s+done.*1 call, 10\+20 tokens/);
    expect(r.stdout).toMatch(/▶ literature\s+running/);
    await env.client.workflow.getHandle(runId).terminate('test done');
  });
});

describe('lab CLI: UI links, list, racing decisions, Ctrl-C', () => {
  it('prints the UI link of the server as it was started (lab server state, or LAB_UI_URL)', async () => {
    const port = Number(env.address.split(':').pop());
    mkdirSync(labHome, { recursive: true });
    const state = { pid: process.pid, temporalPid: process.pid, address: `localhost:${port}`, port, uiPort: 8633, uiUrl: 'http://localhost:8633', dbFile: 'x', startedAt: new Date().toISOString() };
    writeFileSync(path.join(labHome, 'server.json'), JSON.stringify(state));
    try {
      const fromState = await lab$('run', 'calibration-under-shift', '--gate', 'idea', '--model', model(), '--detach', '--json');
      const { runId, ui } = JSON.parse(fromState.stdout);
      expect(ui).toBe(`http://localhost:8633/namespaces/default/workflows/${runId}`);
      const fromEnv = await labVia('node', ['run', 'calibration-under-shift', '--gate', 'idea', '--model', model(), '--detach'], { LAB_UI_URL: 'https://temporal.example.org/' });
      const second = /started run (\S+)/.exec(fromEnv.stdout)![1];
      expect(fromEnv.stdout).toContain(`UI     https://temporal.example.org/namespaces/default/workflows/${second}`);
      await Promise.all([runId, second].map((id) => env.client.workflow.getHandle(id).terminate('test done')));
    } finally {
      rmSync(path.join(labHome, 'server.json'), { force: true });
    }
  });

  it('refuses a chosen id that an earlier run used, before writing anything', async () => {
    const id = `cli-reused-id-${Date.now()}`;
    const first = await lab$('run', 'calibration-under-shift', '--gate', 'idea', '--model', model(), '--detach', '--json', '--id', id);
    expect(first.code, first.stderr).toBe(0);
    const taskFile = path.join(lab.store.runFolder(id), 'task.md');
    // The run's first activity stores the task it was sent.
    await waitFor(async () => existsSync(taskFile) || undefined, 'the first run to store its task');
    await env.client.workflow.getHandle(id).terminate('test: the first run ended');
    const before = readFileSync(taskFile, 'utf8');
    const again = await lab$('run', 'reproducible-ml-pipelines', '--model', model(), '--detach', '--id', id);
    expectUsageError(again, new RegExp(`^lab run: a run with id "${id}" already exists`));
    expect(readFileSync(taskFile, 'utf8')).toBe(before);
  });

  it('experiment options reach the run: step and time bounds, and an external coding agent', async () => {
    const runId = await startDetached('calibration-under-shift', '--gate', 'idea', '--max-steps', '5', '--experiment-minutes', '2', '--command-minutes', '1', '--coding-agent', 'sh agent.sh', '--host-wait', '15m');
    const history = await env.client.workflow.getHandle(runId).fetchHistory();
    const input = JSON.parse(Buffer.from(history.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0].data!).toString());
    expect(input.experiment).toMatchObject({ maxSteps: 5, wallSeconds: 120, sandbox: { wallSeconds: 60, cpuSeconds: 60 }, agent: { kind: 'cli', command: 'sh agent.sh' }, hostWaitSeconds: 900 });
    await env.client.workflow.getHandle(runId).terminate('test done');
  });

  it('lists newest first, with columns that stay aligned for long model specs', async () => {
    const task = 'small-lm-data-efficiency';
    const longModel = `openai-compatible:a-rather-long-model-name-used-to-test-column-widths@${fake.openaiBaseURL}`;
    const ids: string[] = [];
    for (const suffix of ['first', 'second', 'third']) {
      const r = await lab$('run', task, '--gate', 'idea', '--model', longModel, '--detach', '--json', '--id', `cli-list-${suffix}-${Date.now()}`);
      ids.push(JSON.parse(r.stdout).runId);
      await new Promise((res) => setTimeout(res, 50));
    }
    const listed = await waitFor(async () => {
      const r = await lab$('list', '--task', task, '--status', 'awaiting_review', '--json');
      const rows = JSON.parse(r.stdout) as Array<{ runId: string }>;
      return ids.every((id) => rows.some((row) => row.runId === id)) ? rows : undefined;
    }, 'the three runs at their gates');
    const order = listed.map((r) => r.runId).filter((id) => ids.includes(id));
    expect(order).toEqual([...ids].reverse());
    const text = await lab$('list', '--task', task, '--status', 'awaiting_review');
    const lines = text.stdout.trimEnd().split('\n');
    const dateColumn = lines.slice(1).map((l) => l.search(/\d{4}-\d\d-\d\d \d\d:/));
    expect(new Set(dateColumn).size).toBe(1);
    expect(lines[1]).toContain('…');
    await Promise.all(ids.map((id) => env.client.workflow.getHandle(id).terminate('test done')));
  });

  it('decisions racing at the last gate: one wins, every loser gets the same one-line refusal', async () => {
    const runId = await startDetached('calibration-under-shift', '--gate', 'paper');
    await waitForGate(runId, 'paper');
    const results = await Promise.all([lab$('approve', runId), lab$('reject', runId), lab$('approve', runId), lab$('reject', runId)]);
    expect(results.filter((r) => r.code === 0)).toHaveLength(1);
    for (const r of results.filter((x) => x.code !== 0)) {
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toMatch(new RegExp(`^lab (approve|reject): run "${runId}": no stage is waiting for review in this run( \\(the run has ended(: completed)?\\))?$`));
    }
  });

  it('the refusal for a decision aborted by the closing run is the same line', () => {
    const aborted = new Error('workflow update was aborted by closing workflow');
    expect(explainReviewFailure(aborted, 'r1', 30_000)).toBe('run "r1": no stage is waiting for review in this run (the run has ended)');
  });

  it('Ctrl-C of a foreground lab run says the run goes on in Temporal and how to follow it', async () => {
    const child = spawnLab(['run', 'calibration-under-shift', '--gate', 'idea', '--model', model(), '--id', `cli-ctrl-c-${Date.now()}`]);
    const result = collect(child);
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    const runId = await waitFor(async () => /started run (\S+)/.exec(out)?.[1], 'the run to start');
    await waitForGate(runId, 'idea');
    child.kill('SIGINT');
    const r = await result;
    expect(r.code).toBe(130);
    expect(r.stderr.trim()).toBe(`stopped following; run ${runId} goes on in Temporal: lab status ${runId} --follow (UI ${`http://localhost:${Number(env.address.split(':').pop()) + 1000}/namespaces/default/workflows/${runId}`})`);
    expect((await env.client.workflow.getHandle(runId).describe()).status.name).toBe('RUNNING');
    await env.client.workflow.getHandle(runId).terminate('test done');
  });
});
