/**
 * The `lab` command line as a user runs it (a real process), against a real dev server:
 * bad input gives one clear line and a non-zero exit and starts nothing; the happy path works.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { recordedOutput, stageOfPrompt } from './fakes/recordedOutputs.js';
import { createDevServerEnv, startTestLab, tempDir, type TestLab } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

let env: TestWorkflowEnvironment;
let lab: TestLab;
let fake: FakeLlmServer;
const dir = tempDir('cli');
let slowReplies = false;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function lab$(...args: string[]): Promise<CliResult> {
  return labWithInput(undefined, ...args);
}

/** Runs `lab` with `stdin` written to its standard input (what a person would type). */
function labWithInput(stdin: string | undefined, ...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs'), ...args], {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: env.address,
        LAB_HOME: path.join(dir, 'lab'),
        // The in-process test workers write here, so `lab show` reads the same artifacts.
        LAB_ARTIFACT_DIR: lab.store.root,
      },
      stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    if (stdin !== undefined) child.stdin!.write(stdin);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('exit', (code) => {
      child.stdin?.destroy();
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
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
  fake = await new FakeLlmServer((req) => ({ text: recordedOutput(stageOfPrompt(req.prompt)!), delayMs: slowReplies ? 30_000 : 10 })).start();
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
    ]);
    expectUsageError(results[0], /missing task/);
    expectUsageError(results[1], /task not found: "no-such-task"/);
    expectUsageError(results[2], /task\.md is empty/);
    expectUsageError(results[3], /has no task\.md/);
    expectUsageError(results[4], /not valid UTF-8/);
    expectUsageError(results[5], /unknown stage "bogus"/);
    expectUsageError(results[6], /unknown model spec "foo:bar"/);
    expectUsageError(results[7], /--budget-usd must be a positive number/);
    expectUsageError(results[8], /Unknown option '--bogus-flag'/);
    expectUsageError(results[9], /revise needs --feedback/);
    expectUsageError(results[10], /--gate-timeout must be a duration like 90s/);
    expect(await runIds()).toEqual([]);
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
    expect(r.stdout).toContain('idea is ready for review');
    expect(r.stdout).toContain('revise idea: re-running idea with your feedback (revision 1 of 3)');
    expect(r.stdout).toContain('approve idea: continuing with literature');
    expect(r.stdout).toContain('reject paper: run ends as rejected; its artifacts are kept');
    expect(r.stdout).toContain('status rejected');
    expect(r.code).toBe(1); // the run did not complete
    const revised = fake.requests.find((q) => q.prompt.includes('Name the datasets.'));
    expect(revised && stageOfPrompt(revised.prompt)).toBe('idea');
  });
});
