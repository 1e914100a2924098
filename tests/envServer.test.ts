/**
 * The Gym-style environment on real processes: a Temporal dev server, a lab worker and `lab env
 * serve` as child processes, driven by the Python client (clients/python/lab_env.py) through a small
 * driver script, and by the TypeScript client. One session on a shipped competition task: reset,
 * request_info, a method written into methods/, execute_code (reward = the dev score), the worker
 * SIGKILLed and the server restarted between steps, the same session continued, submit (done, the
 * test score). The step records are in the store, and the workflow's history holds the steps as Updates.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvResetResult, EnvSessionView, EnvStepRecord, EnvStepResult } from '../common/envSession.js';
import { listCompetitionTasks } from '../scripts/lib/envServer.js';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { envStepUpdate } from '../workflows/envSession.js';
import { LabEnv, LabEnvError } from '../clients/typescript/labEnv.js';
import { EnvStack } from './helpers/envStack.js';
import { tempDir } from './helpers/temporal.js';

/** The shipped competition the session plays (a small scikit-learn data set: quick to score). */
const TASK = 'cancer-diagnosis';

/** Standardised features and a logistic regression: better than the baseline's nearest neighbours. */
const BETTER_METHOD = [
  'from sklearn.linear_model import LogisticRegression',
  'from sklearn.pipeline import make_pipeline',
  'from sklearn.preprocessing import StandardScaler',
  '',
  '',
  'def build():',
  '    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))',
  '',
].join('\n');

const dir = tempDir('envserver');
const stack = new EnvStack(dir);
let python: PythonDriver | undefined;

/** The Python client in one long-lived process: one JSON command per line in, one JSON answer per line out. */
class PythonDriver {
  private readonly child: ChildProcess;
  private readonly lines: AsyncIterator<string>;
  constructor(url: string) {
    const script = path.join(dir, 'drive.py');
    writeFileSync(
      script,
      [
        'import json, sys',
        `sys.path.insert(0, ${JSON.stringify(path.join(PROJECT_ROOT, 'clients', 'python'))})`,
        'from lab_env import LabEnv, LabEnvError',
        `env = LabEnv(${JSON.stringify(url)}, retry_seconds=60)`,
        'for line in sys.stdin:',
        '    cmd = json.loads(line)',
        '    try:',
        '        if cmd["op"] == "reset":',
        '            obs = env.reset(cmd["task"], limits=cmd.get("limits"))',
        '            out = {"observation": obs, "sessionId": env.session_id, "info": env.info}',
        '        elif cmd["op"] == "step":',
        '            obs, reward, done, info = env.step(cmd["action"])',
        '            out = {"observation": obs, "reward": reward, "done": done, "info": info}',
        '        else:',
        '            out = env.session()',
        '        print(json.dumps({"ok": True, "result": out}), flush=True)',
        '    except LabEnvError as err:',
        '        print(json.dumps({"ok": False, "status": err.status, "error": err.message}), flush=True)',
      ].join('\n'),
    );
    this.child = spawn('python3', [script], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.pipe(createWriteStream(path.join(dir, 'python.log'), { flags: 'a' }));
    this.lines = createInterface({ input: this.child.stdout! })[Symbol.asyncIterator]();
  }
  async send<T>(cmd: object): Promise<{ ok: true; result: T } | { ok: false; status: number; error: string }> {
    this.child.stdin!.write(`${JSON.stringify(cmd)}\n`);
    const next = await this.lines.next();
    if (next.done) throw new Error(`the Python driver ended; see ${dir}/python.log`);
    return JSON.parse(next.value);
  }
  async step(action: object): Promise<EnvStepResult> {
    const answer = await this.send<EnvStepResult>({ op: 'step', action });
    if (!answer.ok) throw new Error(`step ${JSON.stringify(action)} refused: HTTP ${answer.status}: ${answer.error}`);
    return answer.result;
  }
  close(): void {
    this.child.stdin!.end();
  }
}

beforeAll(() => stack.start(), 180_000);

afterAll(async () => {
  python?.close();
  await stack.stop();
});

describe('lab env serve', () => {
  it('plays a session from the Python client; the session survives a worker SIGKILL and a server restart', async () => {
    const url = stack.url;
    const ts = new LabEnv(url);
    expect((await ts.tasks()).map((t) => t.name)).toEqual((await listCompetitionTasks()).map((t) => t.name));
    expect((await ts.tasks()).map((t) => t.name)).toContain(TASK);

    python = new PythonDriver(url);
    // Continue-as-new every 4 steps, so the session also crosses executions.
    const reset = await python.send<EnvResetResult>({ op: 'reset', task: TASK, limits: { maxSteps: 20, stepsPerExecution: 4 } });
    if (!reset.ok) throw new Error(reset.error);
    const sessionId = reset.result.sessionId;
    expect(reset.result.observation.text).toContain(TASK);
    const methodFile = 'methods/baseline.py';
    expect(reset.result.info.files).toContain(methodFile);

    const info = await python.step({ action: 'request_info', topic: 'metric' });
    expect(info).toMatchObject({ reward: 0, done: false, observation: { action: 'request_info', ok: true } });
    expect(info.observation.text).toMatch(/balanced_accuracy: higher is better/);

    const baseline = await python.step({ action: 'read_file', path: methodFile });
    expect(baseline.observation.text).toMatch(/def build/);

    // A method that does not run: validate_code says why, with no reward.
    await python.step({ action: 'write_file', path: methodFile, content: 'def build():\n    raise RuntimeError("not written yet")\n' });
    const broken = await python.step({ action: 'validate_code' });
    expect(broken).toMatchObject({ reward: 0, done: false, observation: { ok: false }, info: { mode: 'validate', status: 'failed' } });
    expect(broken.info.reason).toMatch(/not written yet/);

    // A better method (the reference's kind): execute_code's reward is its normalised dev score.
    const wrote = await python.step({ action: 'write_file', path: methodFile, content: BETTER_METHOD });
    expect(wrote.observation).toMatchObject({ ok: true, filesChanged: [{ path: methodFile, change: 'modified' }] });
    const executed = await python.step({ action: 'execute_code' });
    expect(executed.info).toMatchObject({ split: 'dev', mode: 'full', status: 'scored', rewardForm: 'normalised' });
    expect(executed.info.score).toBeGreaterThan(executed.info.baseline!);
    expect(executed.reward).toBe(executed.info.normalised);
    expect(executed.reward).toBeGreaterThan(0);
    expect(executed.info.relativeImprovement).toBeCloseTo(100 * executed.reward, 2);
    expect(executed.done).toBe(false);

    // Between two steps: the worker dies without a word, and the server is stopped and started again.
    expect((await stack.kill('SIGKILL', 'SIGTERM')).server).toBe(0);
    await stack.startWorkerAndServer();

    const listed = await python.step({ action: 'list_files', path: 'methods' });
    expect(listed.info.step).toBe(executed.info.step + 1);
    expect(listed.observation.text).toContain(path.basename(methodFile));

    // Bad requests are refused before they reach the session.
    const unknownAction = await python.send({ op: 'step', action: { action: 'teleport' } });
    expect(unknownAction).toMatchObject({ ok: false, status: 400 });
    expect((unknownAction as { error: string }).error).toMatch(/unknown action "teleport"/);
    await expect(new LabEnv(url, { sessionId }).step({ action: 'read_file', path: '../outside' })).rejects.toMatchObject({ status: 400 });
    await expect(new LabEnv(url, { sessionId: 'no-such-session' }).step({ action: 'list_files' })).rejects.toMatchObject({ status: 404 });
    // The workflow's own validator, reached without the server: a rejected Update leaves no trace in history.
    const direct = stack.client.workflow.getHandle(sessionId).executeUpdate(envStepUpdate, { args: [{ action: 'teleport' } as never] });
    await expect(direct).rejects.toBeInstanceOf(WorkflowUpdateFailedError);

    const submitted = await python.step({ action: 'submit', summary: 'the baseline with a comment' });
    expect(submitted.done).toBe(true);
    expect(submitted.info).toMatchObject({ split: 'test', status: 'scored', endReason: 'submitted' });
    expect(submitted.reward).toBe(submitted.info.normalised);
    expect(submitted.reward).toBeGreaterThan(0);
    const lastStep = submitted.info.step;

    const after = await python.send({ op: 'step', action: { action: 'list_files' } });
    expect(after).toMatchObject({ ok: false, status: 409 });

    const view = (await new LabEnv(url).session(sessionId)) as unknown as EnvSessionView;
    expect(view).toMatchObject({ sessionId, task: TASK, done: true, status: 'done', endReason: 'submitted', step: lastStep });
    expect(view.final?.score).toBe(submitted.info.score);
    expect(view.bestDev?.score).toBe(executed.info.score);
    expect(view.executions).toBeGreaterThan(1);

    // One record per step, 000 (the reset) to the submission, in the documented format.
    const stepsDir = path.join(stack.labHome, 'artifacts', 'runs', sessionId, 'env', 'steps');
    const names = readdirSync(stepsDir).sort();
    expect(names).toEqual(Array.from({ length: lastStep + 1 }, (_, i) => `${String(i).padStart(3, '0')}.json`));
    const records = names.map((n) => JSON.parse(readFileSync(path.join(stepsDir, n), 'utf8')) as EnvStepRecord);
    expect(records[0]).toMatchObject({ session: sessionId, task: TASK, step: 0, action: { action: 'reset', task: TASK }, reward: 0, done: false });
    const executedRecord = records[executed.info.step];
    expect(executedRecord).toMatchObject({ step: executed.info.step, action: { action: 'execute_code' }, reward: executed.reward, done: false, info: { score: executed.info.score } });
    expect(executedRecord.observationSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(records.at(-1)).toMatchObject({ action: { action: 'submit' }, done: true, reward: submitted.reward });
    expect(records.every((r) => typeof r.at === 'string' && !JSON.stringify(r).includes('teleport'))).toBe(true);

    // The last execution's history (continued as new after step 4): its four steps are Updates; the rejected one left nothing.
    const events = (await stack.client.workflow.getHandle(sessionId).fetchHistory()).events ?? [];
    const accepted = events.flatMap((e) => (e.workflowExecutionUpdateAcceptedEventAttributes ? [e.workflowExecutionUpdateAcceptedEventAttributes.acceptedRequest!.input!] : []));
    expect(accepted.map((input) => input.name)).toEqual(['step', 'step', 'step', 'step']);
    const actions = accepted.map((input) => JSON.parse(Buffer.from(input.args!.payloads![0].data!).toString('utf8')).action);
    expect(actions).toEqual(['write_file', 'execute_code', 'list_files', 'submit']);
    expect(events.filter((e) => e.workflowExecutionUpdateCompletedEventAttributes)).toHaveLength(4);
  });

  it('answers clear errors: unknown task, missing fields, a taken session id, unknown endpoints', async () => {
    const url = stack.url;
    const post = async (p: string, body: string) => {
      const res = await fetch(url + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { status: res.status, body: (await res.json()) as { error: string } };
    };
    expect(await post('/reset', JSON.stringify({ task: 'no-such-task' }))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/unknown competition task.*cancer-diagnosis/) } });
    expect(await post('/reset', '{not json')).toMatchObject({ status: 400, body: { error: expect.stringMatching(/not JSON/) } });
    expect(await post('/reset', JSON.stringify({ task: TASK, sessionId: '../x' }))).toMatchObject({ status: 400 });
    expect(await post('/reset', JSON.stringify({ task: TASK, limits: { maxSteps: -1 } }))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/maxSteps/) } });
    expect(await post('/step', JSON.stringify({ action: { action: 'list_files' } }))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/sessionId/) } });
    const res = await fetch(`${url}/nowhere`);
    expect(res.status).toBe(404);
    expect((await fetch(`${url}/sessions/no-such-session`)).status).toBe(404);

    const env = new LabEnv(url);
    const sessionId = `env-test-${Date.now()}`;
    await env.reset(TASK, { sessionId, limits: { maxSteps: 1 } });
    await expect(env.reset(TASK, { sessionId })).rejects.toMatchObject({ status: 409 });
    // The last allowed step ends the session, truncated.
    const only = await env.step({ action: 'request_info', topic: 'data' });
    expect(only).toMatchObject({ done: true, reward: 0, info: { truncated: true, endReason: 'max_steps', stepsLeft: 0 } });
    await expect(env.step({ action: 'list_files' })).rejects.toBeInstanceOf(LabEnvError);
    expect(existsSync(path.join(stack.labHome, 'artifacts', 'runs', sessionId, 'env', 'steps', '001.json'))).toBe(true);
  });

  it("runs the Python client's demo episode", async () => {
    const demo = spawnSync('python3', [path.join(PROJECT_ROOT, 'clients', 'python', 'lab_env.py'), '--url', stack.url, '--task', TASK], { encoding: 'utf8', timeout: 90_000 });
    expect(demo.status, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/\[5\] submit: reward -?\d+\.\d{4} done True/);
    expect(demo.stdout).toMatch(/"endReason": "submitted"/);
  });
});
