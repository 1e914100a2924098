/**
 * A step that waits long for its sandbox host (workflows/sandboxHost.ts), on a real dev server with
 * a real sandbox worker's queues (createLabWorkers): a host that is busy answers the probe and its
 * step is queued again, never failed; a host with no worker fails the step as SandboxHostLost, and
 * ends a Gym session that was on it. The whole path of a research run (a host killed mid-experiment,
 * the run moving to another host, or going on when it comes back) is in twoHosts.test.ts.
 */
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandboxHostActivities } from '../activities/sandbox/host.js';
import { sandboxHostQueue, sandboxProbeQueue } from '../common/queues.js';
import { createLabWorkers } from '../workers/createWorkers.js';
import { formatStageLine } from '../scripts/lib/format.js';
import { ZERO_USAGE, type StageProgress } from '../common/schemas.js';
import { envReadyUpdate, envStepUpdate } from '../workflows/envSession.js';
import { createDevServerEnv, startTestLab, tempDir } from './helpers/temporal.js';

let env: TestWorkflowEnvironment;
let bundle: WorkflowBundleWithSourceMap;

beforeAll(async () => {
  env = await createDevServerEnv();
  bundle = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./helpers/hostWaitWorkflow.ts', import.meta.url)), logger: new DefaultLogger('WARN') });
}, 120_000);

afterAll(async () => {
  await env?.teardown();
});

async function runWorkflow(taskQueue: string, name: string, args: unknown[]) {
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle });
  const handle = await env.client.workflow.start(name, { taskQueue, workflowId: `${name}-${Date.now()}`, args });
  const outcome = await worker.runUntil(handle.result().then((value) => ({ value }), (error: unknown) => ({ error })));
  const events = (await handle.fetchHistory()).events ?? [];
  return { outcome, events };
}

/**
 * A sandbox host's workers (its shared, own and probe queues, one command slot) whose one step,
 * `holdStep(ms)`, holds its slot for `ms`; `held` counts the steps that started.
 */
async function startHost(id: string) {
  const hostEnv = { LAB_SANDBOX_HOST_ID: id, LAB_SANDBOX_CONCURRENCY: '1' };
  const host = { held: 0, workers: [] as Worker[], running: [] as Array<Promise<void>> };
  const activities = {
    ...createSandboxHostActivities(hostEnv),
    async holdStep(ms: number) {
      host.held += 1;
      await sleep(ms);
      return `held ${ms}`;
    },
  };
  host.workers = await createLabWorkers({ connection: env.nativeConnection, namespace: 'default', queues: ['sandbox'], activities, env: hostEnv });
  host.running = host.workers.map((w) => w.run());
  return host;
}

describe('a step waiting for its sandbox host', () => {
  it('is queued again while the host is busy (the host answers the probe), and runs once', async () => {
    const host = await startHost('busy-host');
    const { workers: hostWorkers, running } = host;
    expect(hostWorkers.map((w) => w.options.taskQueue)).toEqual(['sandbox', sandboxHostQueue('busy-host'), sandboxProbeQueue(sandboxHostQueue('busy-host'))]);
    try {
      // The host runs one step at a time; the second waits 5 s for the first, longer than the 1 s wait.
      const { outcome, events } = await runWorkflow('host-wait-busy', 'twoStepsOnOneSlot', [sandboxHostQueue('busy-host'), 1, 5000]);
      expect(outcome).toEqual({ value: ['held 5000', 'held 10'] });
      expect(host.held).toBe(2);
      const timedOut = events.filter((e) => e.activityTaskTimedOutEventAttributes);
      expect(timedOut.length).toBeGreaterThanOrEqual(1);
      const probes = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sandboxHostAlive');
      expect(probes.length).toBe(timedOut.length);
      expect(events.filter((e) => e.activityTaskCompletedEventAttributes).length).toBe(2 + probes.length);
    } finally {
      for (const w of hostWorkers) w.shutdown();
      await Promise.all(running);
    }
  }, 60_000);

  it('fails as SandboxHostLost when the host goes away while its step runs (the retry waits, the probe is not taken)', async () => {
    const host = await startHost('dying-host');
    const { workers: hostWorkers, running } = host;
    const queue = sandboxHostQueue('dying-host');
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'host-wait-dies', workflowBundle: bundle });
    const handle = await env.client.workflow.start('stepWhoseHostDies', { taskQueue: 'host-wait-dies', workflowId: `stepWhoseHostDies-${Date.now()}`, args: [queue, 1, 4000] });
    const outcome = await worker.runUntil(async () => {
      while (host.held === 0) await sleep(50);
      // The host stops polling every queue at once (its step, still running, never heartbeats again).
      for (const w of hostWorkers) w.shutdown();
      return handle.result().then((value) => ({ value }), (error: unknown) => ({ error }));
    });
    await Promise.all(running);
    const cause = ((outcome as { error?: WorkflowFailedError }).error?.cause ?? {}) as { type?: string };
    expect(cause.type).toBe('SandboxHostLost');
    expect(host.held).toBe(1);
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.activityTaskTimedOutEventAttributes)).toHaveLength(2);
  }, 60_000);

  it('fails as SandboxHostLost when no worker of the host answers', async () => {
    const queue = sandboxHostQueue('gone-host');
    const { outcome, events } = await runWorkflow('host-wait-gone', 'stepOnMissingHost', [queue, 1]);
    expect('error' in outcome).toBe(true);
    const error = (outcome as { error: unknown }).error;
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause as { type?: string; message: string };
    expect(cause.type).toBe('SandboxHostLost');
    expect(cause.message).toBe(`the sandbox host ${queue} is gone: a step waited 1 s for it and no worker of it answered a check within 1 s; the workspace it held is gone with it`);
    // The step and the probe both timed out before starting: nothing ran.
    expect(events.filter((e) => e.activityTaskStartedEventAttributes)).toHaveLength(0);
    expect(events.filter((e) => e.activityTaskTimedOutEventAttributes)).toHaveLength(2);
  }, 60_000);
});

describe('a Gym session whose sandbox host is gone', () => {
  it('ends with sandbox_host_lost on the next step, which says why', async () => {
    const lab = await startTestLab(env, tempDir('host-wait-gym'), 'research,sandbox');
    const handle = await env.client.workflow.start('envSession', {
      taskQueue: 'research',
      workflowId: `gym-host-lost-${Date.now()}`,
      args: [{ task: 'cancer-diagnosis', limits: { hostWaitSeconds: 1 } }],
    });
    try {
      const reset = await handle.executeUpdate(envReadyUpdate);
      expect(reset.observation.ok).toBe(true);
      // The sandbox host stops; the research worker (and the session) go on.
      const sandboxWorkers = lab.workers.filter((w) => w.options.taskQueue.startsWith('sandbox'));
      expect(sandboxWorkers).toHaveLength(3);
      for (const w of sandboxWorkers) w.shutdown();
      const step = await handle.executeUpdate(envStepUpdate, { args: [{ action: 'run', command: 'echo hello' }] });
      expect(step.done).toBe(true);
      expect(step.info.endReason).toBe('sandbox_host_lost');
      expect(step.observation.ok).toBe(false);
      expect(step.info.reason).toMatch(/^run failed: the sandbox host sandbox@\S+ is gone: a step waited 1 s for it/);
      const view = await handle.result();
      expect(view).toMatchObject({ done: true, endReason: 'sandbox_host_lost', step: 1 });
    } finally {
      await lab.shutdown();
    }
  }, 120_000);
});

describe('lab status of an experiment that lost its host', () => {
  it('shows the step and that the experiment started over', () => {
    const running = { stage: 'experiment', status: 'running', usage: ZERO_USAGE, runs: 1 } as StageProgress;
    expect(formatStageLine(running, undefined, undefined, Date.now(), { step: 2, maxSteps: 30 })).toMatch(/step 2\/30$/);
    expect(formatStageLine(running, undefined, undefined, Date.now(), { step: 2, maxSteps: 30, hostsLost: 1 })).toMatch(/step 2\/30 \(started over: its sandbox host was lost\)$/);
    expect(formatStageLine(running, undefined, undefined, Date.now(), { step: 1, maxSteps: 30, hostsLost: 2 })).toContain('(started over: 2 sandbox hosts were lost)');
  });
});
