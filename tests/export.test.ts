/**
 * Trajectory export: the sanitiser and env-session records → transitions as pure functions, and
 * `lab export` as a user runs it on a finished research run whose scripted experiment really ran
 * in the sandbox, with a fake key planted in the worker's environment and in the step records.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../activities/store/localStore.js';
import type { ResearchRunResult } from '../common/schemas.js';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { prepareRun, startRun } from '../scripts/lib/runs.js';
import {
  createSanitiser,
  envEpisode,
  experimentEpisode,
  sftSampleSchema,
  sftSamples,
  stepTransitionSchema,
  transitions,
  type EpisodeInfo,
} from '../scripts/lib/trajectories.js';
import { readEnvSteps, readExperimentSteps, StepRecordError } from '../scripts/lib/trajectories/episodes.js';
import { progressQuery } from '../workflows/definitions.js';
import { scriptedReply } from './fakes/recordedOutputs.js';
import { experimentStep, QUICK_EXPERIMENT, scriptedExperimentReply, type ScriptedSteps } from './fakes/scriptedExperiment.js';
import { runLab } from './helpers/labProcesses.js';
import { startScriptedLab, tempDir, type ScriptedLab } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

// Fake secrets: one only in the environment (as a key variable), the others shaped like real keys.
const PLANTED_ENV_KEY = 'zq7PlantedEnvSecret0042';
const PLANTED_SK = 'sk-ant-api03-PlantedKeyAbcdefghij0123456789';
const PLANTED_BEARER = 'plantedBearerToken.0123456789';

describe('the sanitiser', () => {
  const sanitise = createSanitiser({
    env: { EXPORT_TEST_API_KEY: PLANTED_ENV_KEY, GITHUB_TOKEN: 'ghp_notlongenough', SHORT_KEY: 'abc', HOME: '/home/ada', PATH: '/usr/bin' },
    paths: { '/home/ada': '<home>', '/home/ada/.lab/artifacts': '<artifacts>', '/srv/lab/workspaces': '<workspace>', '/opt/durable-lab': '<project>' },
    tempDirs: ['/tmp'],
  });

  it('strips the values of key variables and key-shaped strings, and nothing else', () => {
    const text = [
      `key ${PLANTED_ENV_KEY} here`,
      `anthropic ${PLANTED_SK}`,
      'openai sk-proj-AbCdEfGhIjKlMnOpQrStUv012345',
      `Authorization: Bearer ${PLANTED_BEARER}`,
      'aws AKIAIOSFODNN7EXAMPLE',
      'Authorization: Basic dXNlcjpwYXNzd29yZDE=',
      'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      '{"api_key": "0123456789abcdef"}',
      '-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----',
    ].join('\n');
    const out = sanitise(text);
    for (const secret of [PLANTED_ENV_KEY, PLANTED_SK, 'sk-proj-AbCd', PLANTED_BEARER, 'AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI', '0123456789abcdef', 'MIIEow', 'dXNlcjpw']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain('key <secret:EXPORT_TEST_API_KEY> here');
    expect(out).toContain('Authorization: Bearer <secret>');
    // Ordinary text and code stay: short values, words that merely contain "key", reading a key from the environment.
    const code = 'api_key = os.environ["OPENAI_API_KEY"]\nmax_tokens=4000 abc sort_key=lambda r: r[0]\npassword = ask_password()\nBearer authentication and Basic statistics';
    expect(sanitise(code)).toBe(code);
  });

  it('replaces the lab folders, the home folder and temp folders by placeholders, longest first', () => {
    const value = {
      a: '/home/ada/.lab/artifacts/runs/x/experiment/steps/001.json',
      b: ['cd /srv/lab/workspaces/run-1 && ls /home/ada/notes', 'python /opt/durable-lab/scripts/x.py'],
      c: 'wrote /tmp/lab-export-Ab12Cd/out/file.txt and /tmp/x; /tmp alone stays, /homeless too',
      n: 3,
      nested: { ok: true, text: '/home/adam is another user' },
    };
    expect(sanitise(value)).toEqual({
      a: '<artifacts>/runs/x/experiment/steps/001.json',
      b: ['cd <workspace>/run-1 && ls <home>/notes', 'python <project>/scripts/x.py'],
      c: 'wrote <tmp>/out/file.txt and <tmp>; /tmp alone stays, /homeless too',
      n: 3,
      nested: { ok: true, text: '/home/adam is another user' },
    });
  });
});

/** An env session as the envSession workflow records it (common/envSession.ts), written by hand. */
function envRecord(step: number, action: unknown, reward: number, done: boolean, info: Record<string, unknown> = {}, text = `after step ${step}`) {
  return {
    session: 'sess-1',
    task: 'digits-small',
    step,
    action,
    observation: { action: (action as { action: string }).action, ok: true, text, filesChanged: [] },
    reward,
    done,
    info: { step, maxSteps: 10, stepsLeft: 10 - step, ...info },
    at: new Date(Date.UTC(2025, 0, 1, 0, 0, step)).toISOString(),
  };
}

function writeSession(root: string, id: string, records: unknown[]): string {
  const folder = path.join(root, 'runs', id);
  mkdirSync(path.join(folder, 'env', 'steps'), { recursive: true });
  for (const r of records) writeFileSync(path.join(folder, 'env', 'steps', `${String((r as { step: number }).step).padStart(3, '0')}.json`), JSON.stringify(r, null, 2));
  return folder;
}

describe('env-session records → transitions and chat samples', () => {
  const root = tempDir('export-env');
  const base = { source: 'env' as const, runId: 'sess-1', model: null, closed: true };

  it('chains observations, keeps the env’s rewards and done, and takes the final score from the submission', async () => {
    const folder = writeSession(root, 'sess-1', [
      envRecord(0, { action: 'reset', task: 'digits-small' }, 0, false, {}, 'Task overview: classify digits'),
      envRecord(1, { action: 'request_info', topic: 'metric' }, 0, false, {}, 'accuracy, higher is better'),
      envRecord(2, { action: 'execute_code' }, 0.25, false, { split: 'dev', status: 'scored', score: 0.91, normalised: 0.25 }),
      envRecord(3, { action: 'submit' }, 0.4, true, { split: 'test', status: 'scored', score: 0.93, normalised: 0.4, relativeImprovement: 40, endReason: 'submitted' }),
    ]);
    const episode = envEpisode(base, await readEnvSteps(new LocalArtifactStore(root), 'sess-1'));
    const steps = transitions(episode);
    expect(steps.map((s) => [s.metadata.step, s.reward, s.done])).toEqual([
      [1, 0, false],
      [2, 0.25, false],
      [3, 0.4, true],
    ]);
    expect(steps[0].observation).toMatchObject({ action: 'reset', text: 'Task overview: classify digits' });
    for (let i = 1; i < steps.length; i++) expect(steps[i].observation).toEqual(steps[i - 1].next_observation);
    expect(steps[2].action).toEqual({ action: 'submit' });
    expect(steps[2].metadata).toMatchObject({
      source: 'env',
      task: 'digits-small',
      model: null,
      runId: 'sess-1',
      outcome: 'done',
      episode_steps: 3,
      final_score: 0.93,
      relative_improvement: 40,
      normalised: 0.4,
    });
    expect(steps[2].metadata.episode_return).toBeCloseTo(0.65);
    for (const s of steps) expect(stepTransitionSchema.safeParse(s).success).toBe(true);

    // No prompt is stored for a session: the user turn is the previous observation's text.
    const samples = sftSamples(episode);
    expect(samples).toHaveLength(3);
    expect(samples[0].messages[1].content).toBe('Observation after reset:\nTask overview: classify digits');
    expect(samples[2].messages[1].content).toBe('Observation after step 2 (reward 0.25):\nafter step 2');
    expect(JSON.parse(samples[1].messages[2].content)).toEqual({ action: 'execute_code' });
    expect(samples[0].messages[0].content).toContain('digits-small');
    for (const s of samples) expect(sftSampleSchema.safeParse(s).success).toBe(true);
  });

  it('an open session is unfinished (done stays false), one closed early is aborted, a dev score is no final score', async () => {
    const records = [envRecord(1, { action: 'execute_code' }, 0.1, false, { split: 'dev', status: 'scored', score: 0.9 })];
    const open = envEpisode({ ...base, closed: false }, records as never);
    expect(open.info.outcome).toBe('unfinished');
    expect(transitions(open)[0]).toMatchObject({ observation: null, done: false, metadata: { outcome: 'unfinished' } });
    expect(envEpisode(base, records as never).info.outcome).toBe('aborted');
    const truncated = envEpisode(base, [{ ...records[0], done: true, info: { split: 'dev', score: 0.9, truncated: true } }] as never);
    expect(truncated.info).toMatchObject({ outcome: 'done' });
    expect(truncated.info.final_score).toBeUndefined();
    const invalid = envEpisode(base, [envRecord(1, { action: 'submit' }, 0, true, { split: 'test', status: 'invalid' })] as never);
    expect(invalid.info.outcome).toBe('invalid');
  });

  it('a record without a reward, or not JSON, is a StepRecordError (the episode is skipped)', async () => {
    expect(() => envEpisode(base, [{ ...envRecord(1, { action: 'validate_code' }, 0, false), reward: undefined }] as never)).toThrow(StepRecordError);
    const folder = writeSession(root, 'sess-bad', []);
    writeFileSync(path.join(folder, 'env', 'steps', '001.json'), '{ not json');
    await expect(readEnvSteps(new LocalArtifactStore(root), 'sess-bad')).rejects.toThrow(/001\.json is not JSON/);
  });
});

describe('experiment step records', () => {
  it('are read from the transcript, which holds only the latest revision, else from the step files', async () => {
    const root = tempDir('export-steps');
    const store = new LocalArtifactStore(root);
    const folder = path.join(root, 'runs', 'r');
    const stepsDir = path.join(folder, 'experiment', 'steps');
    mkdirSync(stepsDir, { recursive: true });
    const record = (step: number) => ({ step, action: { action: 'list_files' }, observation: { action: 'list_files', ok: true, text: `rev ${step}`, filesChanged: [] } });
    for (const step of [1, 2, 3]) writeFileSync(path.join(stepsDir, `00${step}.json`), JSON.stringify(record(step)));
    writeFileSync(path.join(stepsDir, '001-prompt.md'), 'Experiment step 1 of at most 3');
    writeFileSync(path.join(stepsDir, '002-output.txt'), 'not a record');
    expect((await readExperimentSteps(store, 'r')).records.map((r) => r.step)).toEqual([1, 2, 3]);
    // A revision that took two steps: step 3 is left over from the first try.
    writeFileSync(path.join(folder, 'experiment', 'transcript.jsonl'), [record(1), record(2)].map((r) => JSON.stringify(r)).join('\n') + '\n');
    const { records, prompts } = await readExperimentSteps(store, 'r');
    expect(records.map((r) => r.step)).toEqual([1, 2]);
    expect([...prompts.keys()]).toEqual([1]);
  });
});

describe('research-run rewards', () => {
  const records = [1, 2, 3].map((step) => ({
    step,
    thought: `t${step}`,
    action: step < 3 ? { action: 'run', command: `echo ${step}` } : { action: 'finish', summary: 's' },
    observation: { action: step < 3 ? 'run' : 'finish', ok: true, text: `out ${step}`, filesChanged: [] },
  }));
  const info = (outcome: EpisodeInfo['outcome'], finalReward?: number): EpisodeInfo => ({ source: 'research', runId: 'r', task: 't', model: 'm', outcome, finalReward });

  it('0 on every step; the last carries 1 if the experiment succeeded, 0 if it failed; an unfinished one is not done', () => {
    const rewards = (i: EpisodeInfo) => transitions(experimentEpisode(i, records, new Map())).map((s) => [s.reward, s.done]);
    expect(rewards(info('succeeded', 1))).toEqual([[0, false], [0, false], [1, true]]);
    expect(rewards(info('failed_experiment', 0))).toEqual([[0, false], [0, false], [0, true]]);
    expect(rewards(info('unfinished'))).toEqual([[0, false], [0, false], [0, false]]);
    // Without a stored prompt there is no sft sample for the step.
    const prompts = new Map([[2, 'Experiment step 2 of at most 30']]);
    const samples = sftSamples(experimentEpisode(info('succeeded', 1), records, prompts));
    expect(samples.map((s) => s.metadata.step)).toEqual([2]);
    expect(JSON.parse(samples[0].messages[2].content)).toEqual({ thought: 't2', action: { action: 'run', command: 'echo 2' } });
  });
});

describe('lab export on a finished research run', () => {
  const dir = tempDir('export');
  const labHome = path.join(dir, 'lab');
  // A temp folder of its own, so only the temp-folder rule can hide it.
  const privatePath = path.join(tempDir('export-private'), 'notes.txt');
  const steps: ScriptedSteps = [
    { thought: 'Write a small experiment with a baseline.', action: { action: 'write_file', path: 'main.py', content: `${QUICK_EXPERIMENT}# leftover: ${PLANTED_SK}\n` } },
    {
      thought: `Run it (the key is ${PLANTED_ENV_KEY}; the notes are in ${privatePath}).`,
      action: { action: 'run', command: `python main.py && echo "key ${PLANTED_ENV_KEY}" && echo "Authorization: Bearer ${PLANTED_BEARER}" && echo "${privatePath}" && pwd`, timeoutSeconds: 60 },
    },
    { thought: 'Check the results.', action: { action: 'read_file', path: 'results/metrics.csv' } },
    { thought: 'Results are in results/metrics.csv.', action: { action: 'finish', summary: 'Ran main.py; results/metrics.csv holds the mean score of each method.' } },
  ];
  // For the other task: a command that measures nothing, so the experiment's check fails.
  const failingSteps: ScriptedSteps = [
    { thought: 'Try something.', action: { action: 'run', command: 'echo nothing measured', timeoutSeconds: 30 } },
    { thought: 'Give up.', action: { action: 'finish', summary: 'Nothing was measured.' } },
  ];
  let scripted: ScriptedLab;
  let runId: string;
  let failedId: string;
  let gatedId: string;
  const previousKey = process.env.EXPORT_TEST_API_KEY;

  beforeAll(async () => {
    // In the worker's environment (this process) and the CLI's, which inherits it.
    process.env.EXPORT_TEST_API_KEY = PLANTED_ENV_KEY;
    scripted = await startScriptedLab(
      (req) => {
        const step = experimentStep(req.prompt);
        const script = req.prompt.includes('Reproducible Machine Learning Pipelines') ? failingSteps : steps;
        return { text: step !== undefined ? scriptedExperimentReply(step, script) : scriptedReply(req.prompt)! };
      },
      { dir, llmEnv: () => ({ ...process.env, OPENAI_COMPATIBLE_API_KEY: PLANTED_ENV_KEY }) },
    );
    const model = `openai-compatible:scripted@${scripted.fake.openaiBaseURL}`;
    const stageTimeouts = { startToCloseSeconds: 120, heartbeatSeconds: 30, maxAttempts: 2 };
    runId = `export-run-${Date.now()}`;
    const { input } = await prepareRun({ task: 'calibration-under-shift', model, workflowId: runId, stageTimeouts });
    failedId = `export-failed-${Date.now()}`;
    const failing = await prepareRun({ task: 'reproducible-ml-pipelines', model, workflowId: failedId, stageTimeouts });
    const [result] = await Promise.all([
      startRun(scripted.env.client, runId, input).then((h) => h.result() as Promise<ResearchRunResult>),
      // However the run ends, its experiment stage has finished with a failed check.
      startRun(scripted.env.client, failedId, failing.input).then((h) => h.result().catch(() => undefined)),
    ]);
    expect(result.status).toBe('completed');
    // A run held at its first gate: no step records yet.
    gatedId = `export-gated-${Date.now()}`;
    const gated = await prepareRun({ task: 'calibration-under-shift', model, workflowId: gatedId, gates: { stages: ['idea'] }, stageTimeouts });
    const gatedHandle = await startRun(scripted.env.client, gatedId, gated.input);
    await waitFor(async () => (await gatedHandle.query(progressQuery)).pendingGate, 'the idea gate');
  });

  afterAll(async () => {
    await scripted?.env.client.workflow.getHandle(gatedId).terminate('test over').catch(() => undefined);
    await scripted?.teardown();
    if (previousKey === undefined) delete process.env.EXPORT_TEST_API_KEY;
    else process.env.EXPORT_TEST_API_KEY = previousKey;
  });

  function lab(...args: string[]) {
    return runLab(args, { TEMPORAL_ADDRESS: scripted.env.address, LAB_HOME: labHome, LAB_ARTIFACT_DIR: scripted.lab.store.root }, dir);
  }

  function stepFiles(): string[] {
    return readdirSync(path.join(scripted.lab.store.runFolder(runId), 'experiment', 'steps')).filter((n) => /^\d+\.json$/.test(n));
  }

  /** Nothing of this machine's: no planted secret, no temp folder, no project or home path. */
  function expectClean(text: string): void {
    for (const secret of [PLANTED_ENV_KEY, PLANTED_SK, PLANTED_BEARER]) expect(text).not.toContain(secret);
    for (const folder of [dir, os.tmpdir() + '/lab-', PROJECT_ROOT, os.homedir() + '/']) expect(text).not.toContain(folder);
    expect(text).not.toMatch(/\/tmp\/[A-Za-z0-9]/);
  }

  it('writes one valid chat sample per experiment step, with the stored prompt, and strips secrets and paths', async () => {
    // The records themselves hold the planted secrets and paths: the export must take them out.
    const raw = stepFiles().map((n) => readFileSync(path.join(scripted.lab.store.runFolder(runId), 'experiment', 'steps', n), 'utf8')).join('\n');
    expect(raw).toContain(PLANTED_ENV_KEY);
    expect(raw).toContain(privatePath);

    const r = await lab('export', '--format', 'sft', runId);
    expect(r.code, r.stderr).toBe(0);
    // By default under LAB_HOME (not the working folder), printed as an absolute path.
    const file = path.join(labHome, 'exports', `${runId}.sft.jsonl`);
    expect(r.stderr).toContain(`exported 1 episode, ${stepFiles().length} steps (sft) to ${file}; skipped 0 episodes, 0 steps`);
    const text = readFileSync(file, 'utf8');
    expectClean(text);
    expect(text).toContain('<secret:EXPORT_TEST_API_KEY>');
    expect(text).toContain('<tmp>/notes.txt');

    const samples = text.trim().split('\n').map((l) => sftSampleSchema.parse(JSON.parse(l)));
    const progress = await scripted.env.client.workflow.getHandle(runId).query(progressQuery);
    const experimentSteps = progress.stages.find((s) => s.stage === 'experiment')!.checks!.experiment!.steps;
    expect(stepFiles()).toHaveLength(experimentSteps);
    expect(samples).toHaveLength(experimentSteps);
    expect(samples.map((s) => s.metadata.step)).toEqual(steps.map((_, i) => i + 1));
    expect(samples[1].messages[1].content).toMatch(/^Experiment step 2 of at most \d+/m);
    expect(JSON.parse(samples[1].messages[2].content)).toEqual({
      thought: 'Run it (the key is <secret:EXPORT_TEST_API_KEY>; the notes are in <tmp>/notes.txt).',
      action: { ...steps[1].action, command: expect.stringContaining('echo "key <secret:EXPORT_TEST_API_KEY>"') },
    });
    expect(samples[0].metadata).toMatchObject({ source: 'research', task: 'calibration-under-shift', runId, outcome: 'succeeded', episode_return: 1, end: 'finished' });
    expect(samples[0].metadata.model).toMatch(/^openai-compatible:scripted@/);
  });

  it('writes transitions for RL: chained observations, reward 1 on the final step of a succeeded experiment', async () => {
    const r = await lab('export', '--format', 'steps', runId, '--out', '-');
    expect(r.code, r.stderr).toBe(0);
    expectClean(r.stdout);
    const rows = r.stdout.trim().split('\n').map((l) => stepTransitionSchema.parse(JSON.parse(l)));
    expect(rows).toHaveLength(stepFiles().length);
    expect(rows.map((t) => [t.reward, t.done])).toEqual([[0, false], [0, false], [0, false], [1, true]]);
    expect(rows[0].observation).toBeNull();
    for (let i = 1; i < rows.length; i++) expect(rows[i].observation).toEqual(rows[i - 1].next_observation);
    const run = rows[1].next_observation as { action: string; exitCode: number; text: string };
    expect(run).toMatchObject({ action: 'run', exitCode: 0 });
    expect(run.text).toContain('key <secret:EXPORT_TEST_API_KEY>');
    expect(run.text).toContain('Authorization: Bearer <secret>');
    expect(rows[1].metadata.thought).toContain('<secret:EXPORT_TEST_API_KEY>');
    expect(rows[3].metadata).toMatchObject({ step: 4, episode_steps: 4, outcome: 'succeeded' });
    expect(rows[3].metadata.final_score).toBeUndefined();
  });

  it('leaves out a failed experiment unless --include-failed; then its last step has reward 0', async () => {
    const skipped = await lab('export', '--format', 'steps', failedId);
    expect(skipped.code).toBe(1);
    expect(skipped.stderr.trim()).toBe(`lab export: nothing to export from "${failedId}": ${failedId}: failed_experiment (--include-failed exports it)`);
    const r = await lab('export', '--format', 'steps', failedId, '--include-failed', '--out', '-');
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => stepTransitionSchema.parse(JSON.parse(l)));
    // The agent's early finish is refused twice (no command wrote a result), then accepted.
    expect(rows.map((t) => [t.reward, t.done, t.metadata.outcome])).toEqual([
      [0, false, 'failed_experiment'],
      [0, false, 'failed_experiment'],
      [0, false, 'failed_experiment'],
      [0, true, 'failed_experiment'],
    ]);
    expect(rows[0].metadata).toMatchObject({ task: 'reproducible-ml-pipelines', episode_return: 0 });
  });

  it('refuses bad input with exit 2 and one line; an unknown run or one without step records is exit 1', async () => {
    const unknownId = await lab('export', '--format', 'sft', 'no-such-run');
    expect(unknownId.code).toBe(1);
    expect(unknownId.stderr.trim().split('\n')[0]).toBe('lab export: no run, environment session or benchmark with id "no-such-run" (see `lab list`)');
    const badFormat = await lab('export', '--format', 'csv', runId);
    expect(badFormat.code).toBe(2);
    expect(badFormat.stderr.split('\n')[0]).toBe('lab export: --format must be one of sft, steps, got "csv"');
    const noFormat = await lab('export', runId);
    expect(noFormat.code).toBe(2);
    expect(noFormat.stderr.split('\n')[0]).toBe('lab export: missing --format (sft or steps)');
    const noRecords = await lab('export', '--format', 'steps', gatedId);
    expect(noRecords.code).toBe(1);
    expect(noRecords.stderr.trim()).toBe(`lab export: "${gatedId}" has no step records (nothing under runs/${gatedId}/experiment/steps/ in ${scripted.lab.store.root})`);
    for (const r of [unknownId, badFormat, noFormat, noRecords]) expect(r.stdout).toBe('');
  });
});
