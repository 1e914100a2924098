/**
 * What a new user hit (issue 15), through the real `lab` process against a dev server and workers
 * with a scripted LLM: a decision names the gate it answers and is refused once that gate has
 * closed; `lab list --status` works for every status; `lab cancel` and `lab bench cancel` stop
 * runs (sandboxed processes included), say where they stopped, and `lab resume` goes on from there.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunProgress } from '../common/schemas.js';
import { LAB_STATUS, LAB_TASK } from '../common/searchAttributes.js';
import type { FakeRequest } from './fakes/fakeLlmServer.js';
import { recordedOutput, scriptedReply } from './fakes/recordedOutputs.js';
import { experimentStep, QUICK_STEPS, scriptedExperimentReply, type ScriptedSteps } from './fakes/scriptedExperiment.js';
import { runLab } from './helpers/labProcesses.js';
import { hostProcessesWith } from './helpers/processes.js';
import { startScriptedLab, tempDir, type ScriptedLab } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

let s: ScriptedLab;
const dir = tempDir('gates-cancel');
let experimentSteps: ScriptedSteps = QUICK_STEPS;
let slowReplies = false;

beforeAll(async () => {
  s = await startScriptedLab(
    (req: FakeRequest) => {
      const step = experimentStep(req.prompt);
      if (step !== undefined) return { text: scriptedExperimentReply(step, experimentSteps) };
      return { text: scriptedReply(req.prompt) ?? recordedOutput('idea'), delayMs: slowReplies ? 30_000 : 10 };
    },
    { dir },
  );
  s.fake.models = ['scripted'];
});

afterAll(async () => {
  await s?.teardown();
});

const model = () => `openai-compatible:scripted@${s.fake.openaiBaseURL}`;
const lab = (...args: string[]) =>
  runLab(args, { TEMPORAL_ADDRESS: s.env.address, LAB_HOME: path.join(dir, 'home'), LAB_ARTIFACT_DIR: s.lab.store.root });
const handle = (id: string) => s.env.client.workflow.getHandle(id);

async function startDetached(...args: string[]): Promise<string> {
  const r = await lab('run', 'calibration-under-shift', ...args, '--model', model(), '--no-preflight', '--detach', '--json');
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout).runId;
}

async function waitForGate(runId: string, stage: string, revisionsUsed = 0): Promise<RunProgress> {
  return waitFor(async () => {
    const p = await handle(runId).query<RunProgress>('progress');
    return p.pendingGate?.stage === stage && p.pendingGate.revisionsUsed === revisionsUsed ? p : undefined;
  }, `gate at ${stage} (revision ${revisionsUsed})`);
}

describe('a decision names the gate it answers', () => {
  it('a second approve for the idea gate is refused once the proposal gate has opened; revisions are named too', async () => {
    const runId = await startDetached('--gate', 'idea,proposal');
    await waitForGate(runId, 'idea');

    // Without --stage, a run with several gates cannot know which one was read: refused, the open gate named.
    const bare = await lab('approve', runId);
    expect(bare.code).toBe(2);
    expect(bare.stderr.trim()).toBe(
      `lab approve: run "${runId}" has gates at idea, proposal: say which one you decide, e.g. lab approve ${runId} --stage idea (open now: idea, revision 0)`,
    );

    const first = await lab('approve', runId, '--stage', 'idea');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe('approve idea: continuing with literature');
    await waitForGate(runId, 'proposal');
    // The user's second `lab approve` (sent again, for the idea they read) must not approve the unread proposal.
    const late = await lab('approve', runId, '--stage', 'idea');
    expect(late.code).toBe(1);
    expect(late.stderr.trim()).toBe(
      `lab approve: run "${runId}": the gate you named (idea) is not open; the open gate is proposal, revision 0`,
    );
    expect((await handle(runId).query<RunProgress>('progress')).pendingGate?.stage).toBe('proposal');

    const revised = await lab('revise', runId, '--stage', 'proposal', '--revision', '0', '--feedback', 'Name the baselines.');
    expect(revised.code, revised.stderr).toBe(0);
    await waitForGate(runId, 'proposal', 1);
    // What lab status tells a user to type names the gate it shows, so it cannot land on a later one.
    const shown = await lab('status', runId);
    expect(shown.stdout).toContain(`decide:    lab approve ${runId} --stage proposal --revision 1 | lab revise ${runId} --stage proposal --revision 1 --feedback "..."`);
    const stale = await lab('reject', runId, '--stage', 'proposal', '--revision', '0');
    expect(stale.code).toBe(1);
    expect(stale.stderr.trim()).toMatch(/the gate you named \(proposal, revision 0\) is not open; the open gate is proposal, revision 1$/);
    const approved = await lab('approve', runId, '--stage', 'proposal', '--revision', '1', '--json');
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ runId, stage: 'proposal', action: 'approve', gate: { stage: 'proposal', revision: 1 } });
    await handle(runId).terminate('test done');

    const usage = await Promise.all([lab('approve', runId, '--revision', '1'), lab('reject', runId, '--stage', 'bogus'), lab('approve', '--help')]);
    expect(usage[0].code).toBe(2);
    expect(usage[0].stderr.split('\n')[0]).toBe('lab approve: --revision needs --stage (the gate it is a version of)');
    expect(usage[1].code).toBe(2);
    expect(usage[1].stderr.split('\n')[0]).toMatch(/--stage must be one of idea, literature, proposal, experiment, paper, got "bogus"/);
    expect(usage[2].stdout).toContain('Without --stage');
  });

  it('a run with one gate is decided without --stage, pinned to the version open now', async () => {
    const runId = await startDetached('--gate', 'idea');
    await waitForGate(runId, 'idea');
    const approved = await lab('approve', runId, '--json');
    expect(approved.code, approved.stderr).toBe(0);
    expect(JSON.parse(approved.stdout)).toMatchObject({ stage: 'idea', gate: { stage: 'idea', revision: 0 } });
    await handle(runId).terminate('test done');
  });
});

describe('lab list --status', () => {
  it('lists exactly the runs of each status, terminated/cancelled/timed-out ones under their own', async () => {
    const noWorker = (id: string, extra: Record<string, unknown> = {}) =>
      s.env.client.workflow.start('researchRun', {
        taskQueue: 'nobody-polls-this',
        workflowId: id,
        args: [{}],
        typedSearchAttributes: [
          { key: LAB_TASK, value: 'calibration-under-shift' },
          { key: LAB_STATUS, value: 'running' },
        ],
        ...extra,
      });
    const t = Date.now();
    const ids = { running: `list-running-${t}`, terminated: `list-terminated-${t}`, timed_out: `list-timed-out-${t}`, failed: `list-failed-${t}` } as Record<string, string>;
    await noWorker(ids.running);
    await (await noWorker(ids.terminated)).terminate('test: terminated');
    await noWorker(ids.timed_out, { workflowExecutionTimeout: '1s' });
    await s.env.client.workflow.start('researchRun', { taskQueue: 'research', workflowId: ids.failed, args: [{ task: { name: 'x' }, model: '' }] });
    [ids.awaiting_review, ids.rejected, ids.cancelled, ids.completed, ids.budget_exhausted] = await Promise.all([
      startDetached('--gate', 'idea'),
      startDetached('--gate', 'idea'),
      startDetached('--gate', 'idea'),
      startDetached('--gate', 'literature'),
      startDetached('--max-tokens', '1'),
    ]);
    await Promise.all([ids.awaiting_review, ids.rejected, ids.cancelled].map((id) => waitForGate(id, 'idea')));
    await waitForGate(ids.completed, 'literature');
    await handle(ids.rejected).executeUpdate('review', { args: [{ action: 'reject' }] });
    // Cancelled while waiting at its gate: its LabStatus still says awaiting_review.
    await handle(ids.cancelled).cancel();
    await handle(ids.completed).executeUpdate('review', { args: [{ action: 'approve' }] });
    await Promise.all(
      [ids.rejected, ids.cancelled, ids.completed, ids.budget_exhausted, ids.failed, ids.timed_out].map((id) => handle(id).result().catch(() => undefined)),
    );
    expect((await handle(ids.budget_exhausted).result()).status).toBe('budget_exhausted');

    const ours = new Set(Object.values(ids));
    for (const status of Object.keys(ids)) {
      const rows = await waitFor(async () => {
        const r = await lab('list', '--status', status, '--json', '--limit', '1000');
        expect(r.code, `${status}: ${r.stderr}`).toBe(0);
        const found = (JSON.parse(r.stdout) as Array<{ runId: string; status: string }>).filter((row) => ours.has(row.runId));
        return found.some((row) => row.runId === ids[status]) ? found : undefined;
      }, `lab list --status ${status}`, 20_000, 500);
      expect(rows, status).toEqual([expect.objectContaining({ runId: ids[status], status })]);
    }
    await handle(ids.running).terminate('test done');
    await handle(ids.awaiting_review).terminate('test done');
  });
});

describe('lab cancel', () => {
  it('cancels a run mid-experiment: its sandboxed process is gone, status says cancelled at experiment, resume reuses the rest', async () => {
    const marker = `lab-cli-cancel-${process.pid}`;
    experimentSteps = [
      { action: { action: 'run', command: `sleep 300 # ${marker}`, timeoutSeconds: 600 } },
      { action: { action: 'finish', summary: 'never reached' } },
    ];
    const runId = await startDetached();
    await waitFor(async () => hostProcessesWith(marker).length >= 1 || undefined, 'the sandboxed command to be running', 90_000);
    const cancelled = await lab('cancel', runId);
    experimentSteps = QUICK_STEPS;
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout.trim()).toBe(`cancelled run ${runId} at experiment; resume it with: lab resume ${runId}`);
    await waitFor(async () => hostProcessesWith(marker).length === 0 || undefined, 'the sandboxed process to be gone', 30_000);

    const status = await lab('status', runId);
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/^status cancelled \(stage experiment\)/m);
    expect(status.stdout).toMatch(/■ experiment\s+cancelled/);
    expect(status.stdout).toMatch(/✓ proposal\s+done/);
    const shown = await lab('show', runId, '--json');
    expect(JSON.parse(shown.stdout)).toMatchObject({ status: 'cancelled', stopped: { how: 'cancelled', stage: 'experiment' } });

    const again = await lab('cancel', runId);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`lab cancel: run "${runId}" has already ended (cancelled); nothing to cancel`);
    const resumed = await lab('resume', runId, '--detach', '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ resumedFrom: runId, reused: ['idea', 'literature', 'proposal'] });
    await handle(JSON.parse(resumed.stdout).runId).terminate('test done');
  });

  it('--terminate is the hard stop; unknown runs are one line, exit 1', async () => {
    const runId = await startDetached('--gate', 'idea');
    await waitForGate(runId, 'idea');
    const stopped = await lab('cancel', runId, '--terminate', '--json');
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(JSON.parse(stopped.stdout)).toEqual({ id: runId, execution: 'TERMINATED', stage: 'idea' });
    const status = await lab('status', runId);
    expect(status.code).toBe(3);
    expect(status.stdout).toMatch(/^status terminated \(stage idea\)/m);

    const unknown = await lab('cancel', 'no-such-run');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toBe('lab cancel: no run with id "no-such-run" (see `lab list`)');
    expect((await lab('cancel')).code).toBe(2);
    const help = await lab('--help');
    expect(help.stdout).toMatch(/^ {2}cancel /m);
  });

  it('lab bench cancel stops a benchmark and its items', async () => {
    slowReplies = true;
    const benchId = `bench-cancel-${Date.now()}`;
    const started = await lab('bench', '--tasks', 'calibration-under-shift', '--agent', model(), '--judge', model(), '--stages', 'idea', '--id', benchId, '--detach', '--json');
    expect(started.code, started.stderr).toBe(0);
    const itemRun = await waitFor(async () => {
      for await (const w of s.env.client.workflow.list({ query: `WorkflowType = 'researchRun' AND ExecutionStatus = 'Running'` })) if (w.workflowId.startsWith(benchId)) return w.workflowId;
      return undefined;
    }, 'the benchmark item to start');
    const cancelled = await lab('bench', 'cancel', benchId);
    slowReplies = false;
    expect(cancelled.code, cancelled.stderr).toBe(0);
    expect(cancelled.stdout.trim()).toBe(`cancelled benchmark ${benchId}; resume it with: lab bench resume ${benchId}`);
    expect((await handle(benchId).describe()).status.name).toBe('CANCELLED');
    await waitFor(async () => (await handle(itemRun).describe()).status.name !== 'RUNNING' || undefined, 'the item run to stop');

    const again = await lab('bench', 'cancel', benchId);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`lab bench: benchmark "${benchId}" has already ended (cancelled); nothing to cancel`);
    const unknown = await lab('bench', 'cancel', 'no-such-bench');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim()).toMatch(/^lab bench: no benchmark with id "no-such-bench"/);
  });
});
