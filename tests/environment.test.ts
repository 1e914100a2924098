/**
 * The environment's activities through a real Temporal worker on the `sandbox` queue, with the
 * default (bubblewrap) sandbox: a small scikit-learn experiment writes a CSV and a figure, file
 * actions stay inside the workspace, and cancelling a workflow mid-command kills the command's tree.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure, defaultPayloadConverter } from '@temporalio/common';
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ArtifactStore } from '../activities/artifacts.js';
import { LocalArtifactStore } from '../activities/store/localStore.js';
import { createEnvironmentActivities, snapshotWorkspace, readWorkspaceFile } from '../activities/environment/index.js';
import {
  BubblewrapBackend,
  BWRAP_MISSING,
  dockerRunArgs,
  imageBundledDataFolders,
  sandboxBackendFromEnv,
  SandboxConfigError,
  UNSAFE_WARNING,
  UnsafeProcessBackend,
} from '../activities/sandbox/index.js';
import { sandboxLimitsSchema, type Observation } from '../common/environment.js';
import { TASK_QUEUES } from '../common/queues.js';
import { workerTuning } from '../workers/env.js';
import { createDevServerEnv, tempDir } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';
import type { EnvTestStep } from './helpers/sandbox.js';
import { hostProcessesWith } from './helpers/processes.js';

const EXPERIMENT = `
import csv, os
import matplotlib.pyplot as plt
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0)
os.makedirs("results", exist_ok=True)
rows = []
for c in (0.01, 0.1, 1.0):
    model = LogisticRegression(C=c, max_iter=500).fit(X_train, y_train)
    rows.append((c, round(model.score(X_test, y_test), 4)))
with open("results/metrics.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["C", "accuracy"])
    w.writerows(rows)
plt.plot([r[0] for r in rows], [r[1] for r in rows], marker="o")
plt.xscale("log")
plt.savefig("results/accuracy.png")
print("best accuracy", max(r[1] for r in rows))
`;


describe('environment activities on the sandbox queue', () => {
  let env: TestWorkflowEnvironment;
  let store: ArtifactStore;
  let workers: Worker[];
  let running: Promise<unknown>;
  const savedWorkspaceDir = process.env.LAB_WORKSPACE_DIR;

  beforeAll(async () => {
    const dir = tempDir('env');
    process.env.LAB_WORKSPACE_DIR = path.join(dir, 'workspaces');
    mkdirSync(process.env.LAB_WORKSPACE_DIR);
    store = new LocalArtifactStore(path.join(dir, 'artifacts'));
    env = await createDevServerEnv();
    const bundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./helpers/sandbox.ts', import.meta.url)),
      logger: new DefaultLogger('WARN'),
    });
    // One worker serves the test workflows and the env activities (the experiment loop's workflow
    // would be on `research`; the queue of the workflow does not matter here).
    workers = [
      await Worker.create({
        connection: env.nativeConnection,
        taskQueue: TASK_QUEUES.sandbox,
        workflowBundle: bundle,
        activities: createEnvironmentActivities({ store, backend: new BubblewrapBackend() }),
        ...workerTuning({}).sandbox,
        // Cancellation reaches an activity with a heartbeat's answer: send them often here.
        maxHeartbeatThrottleInterval: '1s',
        defaultHeartbeatThrottleInterval: '1s',
      }),
    ];
    running = Promise.all(workers.map((w) => w.run()));
  });

  afterAll(async () => {
    for (const w of workers ?? []) if (w.getState() === 'RUNNING') w.shutdown();
    await running;
    await env?.teardown();
    if (savedWorkspaceDir === undefined) delete process.env.LAB_WORKSPACE_DIR;
    else process.env.LAB_WORKSPACE_DIR = savedWorkspaceDir;
  });

  function steps(runId: string, list: EnvTestStep[]): Promise<Observation[]> {
    return env.client.workflow.execute('envStepsWorkflow', { taskQueue: TASK_QUEUES.sandbox, workflowId: `env-${runId}`, args: [runId, list] });
  }

  it('preflight finds a working sandbox: it starts, has no network, and its Python imports every package', async () => {
    const problems = await env.client.workflow.execute('envPreflightWorkflow', { taskQueue: TASK_QUEUES.sandbox, workflowId: 'env-preflight', args: [] });
    expect(problems).toEqual([]);
  });

  it('runs a scikit-learn experiment that writes a CSV and a figure, then reads and lists them', async () => {
    const runId = 'iris-1';
    const [write, run, read, list, finish] = await steps(runId, [
      { action: { action: 'write_file', path: 'main.py', content: EXPERIMENT } },
      { action: { action: 'run', command: 'python main.py' }, limits: { wallSeconds: 120 } },
      { action: { action: 'read_file', path: 'results/metrics.csv' } },
      { action: { action: 'list_files' } },
      { action: { action: 'finish', summary: 'done' } },
    ]);
    expect(write).toMatchObject({ ok: true, filesChanged: [{ path: 'main.py', change: 'added' }] });

    expect(run.ok).toBe(true);
    expect(run.exitCode).toBe(0);
    expect(run.killedBy).toBeUndefined();
    expect(run.text).toMatch(/best accuracy 0\.\d+/);
    expect(run.filesChanged.map((f) => [f.path, f.change])).toEqual([
      ['results/accuracy.png', 'added'],
      ['results/metrics.csv', 'added'],
    ]);
    expect(run.text).toMatch(/added results\/metrics\.csv/);
    // The full output is an artifact; its sha256 of stdout+stderr is the observation's.
    const output = await store.getText(run.output!);
    expect(run.output!.path).toBe(`runs/${runId}/experiment/steps/002-output.txt`);
    expect(output).toMatch(/^\$ python main\.py\n--- stdout/);
    expect(run.outputSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(run.stdoutBytes).toBeGreaterThan(0);

    expect(read.ok).toBe(true);
    expect(read.text.split(/\r?\n/)[0]).toBe('C,accuracy');
    expect(read.text.trim().split('\n')).toHaveLength(4);
    expect(list.text).toMatch(/^main\.py {2}\(/m);
    expect(list.text).toMatch(/^results\/accuracy\.png {2}\(\d+\.\d KB\)/m);
    expect(finish).toMatchObject({ action: 'finish', ok: true });

    // What the experiment stage collects: the snapshot and the files themselves.
    const snapshot = await snapshotWorkspace(runId);
    const png = snapshot.entries.find((e) => e.path === 'results/accuracy.png');
    expect(png).toMatchObject({ kind: 'file' });
    expect((await readWorkspaceFile(runId, 'results/accuracy.png')).subarray(1, 4).toString()).toBe('PNG');
    // A root worker hands the workspace back to itself after each command.
    expect(readdirSync(path.join(process.env.LAB_WORKSPACE_DIR!, runId, 'results')).length).toBe(2);
  });

  it('refuses paths that leave the workspace, by name or through a symbolic link', async () => {
    const runId = 'escape-1';
    const [dotdot, absolute, links, viaLink, viaDir, writeViaDir, insideLink] = await steps(runId, [
      { action: { action: 'write_file', path: '../evil.txt', content: 'x' } },
      { action: { action: 'read_file', path: '/etc/passwd' } },
      { action: { action: 'run', command: `ln -s ${'/etc/hostname'} host-file && ln -s / root-dir && mkdir -p inner && ln -s inner inside-link` } },
      { action: { action: 'read_file', path: 'host-file' } },
      { action: { action: 'list_files', path: 'root-dir' } },
      { action: { action: 'write_file', path: 'root-dir/tmp/evil.txt', content: 'x' } },
      { action: { action: 'write_file', path: 'inside-link/ok.txt', content: 'fine' } },
    ]);
    for (const refused of [dotdot, absolute, viaLink, viaDir, writeViaDir]) {
      expect(refused.ok).toBe(false);
      expect(refused.error).toMatch(/workspace/);
    }
    expect(links.ok).toBe(true);
    // A link that stays inside is followed.
    expect(insideLink.error).toBeUndefined();
    expect(readFileSync(path.join(process.env.LAB_WORKSPACE_DIR!, runId, 'inner', 'ok.txt'), 'utf8')).toBe('fine');
    const [inside] = await steps('escape-2', [{ action: { action: 'read_file', path: 'nothing.txt' } }]);
    expect(inside).toMatchObject({ ok: false, error: 'nothing.txt does not exist' });
  });

  it('cancelling the workflow mid-command kills the whole sandboxed tree', async () => {
    const marker = `lab-env-cancel-${process.pid}`;
    const handle = await env.client.workflow.start('envStepsWorkflow', {
      taskQueue: TASK_QUEUES.sandbox,
      workflowId: 'env-cancel',
      args: ['cancel-1', [{ action: { action: 'run', command: `sh -c "sleep 300; : ${marker}" & sleep 300; : ${marker}` } }]],
    });
    await waitFor(async () => hostProcessesWith(marker).length >= 2 || undefined, 'the sandboxed command to start', 30_000);
    // Heartbeats carry how long the command has run and its output so far.
    const details = await waitFor(async () => {
      const pending = (await handle.describe()).raw.pendingActivities?.[0];
      const payload = pending?.heartbeatDetails?.payloads?.[0];
      const value = payload ? defaultPayloadConverter.fromPayload<{ elapsedSeconds: number; outputBytes: number }>(payload) : undefined;
      return value && value.elapsedSeconds >= 1 ? value : undefined;
    }, 'a heartbeat with the elapsed time', 30_000);
    expect(details).toMatchObject({ step: 1, action: 'run', outputBytes: 0 });
    await handle.cancel();
    await expect(handle.result()).rejects.toThrow();
    expect(hostProcessesWith(marker)).toEqual([]);
  });
});

describe('docker backend', () => {
  it('builds a docker run with no network, a read-only root, the workspace as the only writable mount and the limits', () => {
    const limits = sandboxLimitsSchema.parse({ memoryMb: 1024, processes: 32, cpuSeconds: 60, openFiles: 128, fileSizeMb: 10, workspaceMb: 100 });
    const argv = dockerRunArgs({ image: 'lab-sandbox:1', name: 'lab-sandbox-abc', workspace: '/data/ws/run-1', command: 'python main.py', limits, cpus: 2, user: '1000:1000' });
    const pairs = (flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]] : []));
    expect(argv.slice(0, 4)).toEqual(['run', '--rm', '--name', 'lab-sandbox-abc']);
    expect(pairs('--network')).toEqual(['none']);
    expect(argv).toContain('--read-only');
    expect(pairs('--volume')).toEqual(['/data/ws/run-1:/workspace:rw']);
    expect(pairs('--tmpfs')).toEqual(['/tmp:rw,nosuid,nodev,size=100m']);
    expect(pairs('--workdir')).toEqual(['/workspace']);
    expect(pairs('--user')).toEqual(['1000:1000']);
    expect(pairs('--cap-drop')).toEqual(['ALL']);
    expect(pairs('--security-opt')).toEqual(['no-new-privileges']);
    expect(pairs('--memory')).toEqual(['1024m']);
    expect(pairs('--memory-swap')).toEqual(['1024m']);
    expect(pairs('--pids-limit')).toEqual(['32']);
    expect(pairs('--cpus')).toEqual(['2']);
    expect(pairs('--ulimit')).toEqual(['cpu=60:61', 'nofile=128:128', `fsize=${10 * 2 ** 20}:${10 * 2 ** 20}`, 'core=0:0']);
    const envs = pairs('--env');
    expect(envs).toContain('HOME=/workspace');
    expect(envs).toContain('OMP_NUM_THREADS=2');
    expect(envs.some((e) => e.startsWith('PATH='))).toBe(false);
    expect(argv.slice(-4)).toEqual(['lab-sandbox:1', '/bin/sh', '-c', 'python main.py']);
  });

  it("shows a competition run the image's bundled data folders empty (read-only tmpfs)", () => {
    const limits = sandboxLimitsSchema.parse({});
    const hiddenFolders = imageBundledDataFolders({ LAB_SANDBOX_IMAGE_SITE_PACKAGES: '/opt/py/site-packages' });
    expect(hiddenFolders).toContain('/opt/py/site-packages/sklearn/datasets/data');
    expect(imageBundledDataFolders({})).toContain('/usr/local/lib/python3.11/site-packages/sklearn/datasets/data');
    const argv = dockerRunArgs({ image: 'lab-sandbox:1', name: 'lab-sandbox-abc', workspace: '/w', command: 'true', limits, cpus: 1, user: '1:1', hiddenFolders });
    const tmpfs = argv.flatMap((a, i) => (a === '--tmpfs' ? [argv[i + 1]] : []));
    expect(tmpfs).toContain('/opt/py/site-packages/sklearn/datasets/data:ro,size=64k');
    expect(tmpfs).toHaveLength(1 + hiddenFolders.length);
  });
});

/** Activities run in-process; their expected failures are not logged. */
function quietActivityEnvironment(): MockActivityEnvironment {
  return new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
}

describe('backend choice (LAB_SANDBOX)', () => {
  it('defaults to bubblewrap, names docker and unsafe-process, and reports an unknown name', async () => {
    const warnings: string[] = [];
    expect(sandboxBackendFromEnv({}, (l) => warnings.push(l)).name).toBe('bwrap');
    expect(sandboxBackendFromEnv({ LAB_SANDBOX: 'docker' }, (l) => warnings.push(l)).name).toBe('docker');
    expect(warnings).toEqual([]);
    expect(sandboxBackendFromEnv({ LAB_SANDBOX: 'unsafe-process' }, (l) => warnings.push(l)).isolated).toBe(false);
    expect(warnings).toEqual([UNSAFE_WARNING]);
    expect(await sandboxBackendFromEnv({ LAB_SANDBOX: 'chroot' }).preflight()).toEqual(['sandbox: LAB_SANDBOX must be one of bwrap, docker, unsafe-process (got "chroot")']);
  });

  it('without bwrap, preflight says how to fix it and a step fails as a non-retryable ConfigError', async () => {
    const missing = new BubblewrapBackend({ PATH: '/nonexistent' });
    expect(await missing.preflight()).toEqual([`sandbox (bwrap): ${BWRAP_MISSING}`]);
    expect(BWRAP_MISSING).toMatch(/npm run setup.*LAB_SANDBOX=/);
    await expect(missing.exec({ workspace: tempDir('nobwrap'), command: 'true', limits: sandboxLimitsSchema.parse({}) })).rejects.toThrow(SandboxConfigError);
    const saved = process.env.LAB_WORKSPACE_DIR;
    process.env.LAB_WORKSPACE_DIR = tempDir('nobwrap-ws');
    try {
      const { envStep } = createEnvironmentActivities({ store: new LocalArtifactStore(tempDir('nobwrap-store')), backend: missing });
      const failure = await quietActivityEnvironment().run(envStep, { runId: 'r1', step: 1, action: { action: 'run' as const, command: 'true' } }).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ApplicationFailure);
      expect(failure).toMatchObject({ type: 'ConfigError', nonRetryable: true, message: BWRAP_MISSING });
    } finally {
      if (saved === undefined) delete process.env.LAB_WORKSPACE_DIR;
      else process.env.LAB_WORKSPACE_DIR = saved;
    }
  });

  it('the unsafe backend puts its warning at the top of every run observation', async () => {
    const saved = process.env.LAB_WORKSPACE_DIR;
    process.env.LAB_WORKSPACE_DIR = tempDir('unsafe-ws');
    try {
      const { envStep } = createEnvironmentActivities({ store: new LocalArtifactStore(tempDir('unsafe-store')), backend: new UnsafeProcessBackend() });
      const observation: Observation = await quietActivityEnvironment().run(envStep, { runId: 'r1', step: 1, action: { action: 'run' as const, command: 'echo hi' } });
      expect(observation.text.split('\n')[0]).toBe(UNSAFE_WARNING);
      expect(observation).toMatchObject({ ok: true, exitCode: 0, stdoutBytes: 3 });
    } finally {
      if (saved === undefined) delete process.env.LAB_WORKSPACE_DIR;
      else process.env.LAB_WORKSPACE_DIR = saved;
    }
  });
});
