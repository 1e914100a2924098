/**
 * `lab env serve` under concurrent and faulty clients, on real processes (Temporal dev server, lab
 * worker, the server): eight steps sent at once, from the TypeScript client and from the Python
 * client's threads, run one at a time in arrival order (each step's filesChanged its own); a body
 * over the limit is a 413 with the limit, raised at once by both clients; `npx lab env serve`
 * stops, and frees its port, on SIGTERM to npx.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { LabEnv, LabEnvError, type LabStepResult } from '../clients/typescript/labEnv.js';
import { EnvStack, freePort, portClosed } from './helpers/envStack.js';
import { tempDir } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

const TASK = 'cancer-diagnosis';
const STEPS = 8;
const SLEEP_SECONDS = 1;

const dir = tempDir('envsteps');
const stack = new EnvStack(dir);

beforeAll(() => stack.start(), 180_000);
afterAll(() => stack.stop());

/** Step i appends to a shared log around a sleep and leaves a file of its own. */
function action(i: number) {
  return { action: 'run' as const, command: `set -e; echo start ${i} >> methods/log.txt; sleep ${SLEEP_SECONDS}; echo end ${i} >> methods/log.txt; echo ${i} > methods/step-${i}.txt` };
}

/** The Python client in threads: one LabEnv per thread, all on one session, started together. */
function pythonConcurrent(url: string, sessionId: string, actions: object[]): { wallMs: number; results: LabStepResult[] } {
  const script = path.join(dir, 'concurrent.py');
  writeFileSync(
    script,
    [
      'import json, sys, threading, time',
      `sys.path.insert(0, ${JSON.stringify(path.join(PROJECT_ROOT, 'clients', 'python'))})`,
      'from lab_env import LabEnv',
      'url, session_id, actions = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])',
      'results = [None] * len(actions)',
      'gate = threading.Barrier(len(actions))',
      'def run(i):',
      '    env = LabEnv(url, session_id=session_id)',
      '    gate.wait()',
      '    obs, reward, done, info = env.step(actions[i])',
      '    results[i] = {"observation": obs, "reward": reward, "done": done, "info": info}',
      'threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]',
      'started = time.monotonic()',
      'for t in threads: t.start()',
      'for t in threads: t.join()',
      'print(json.dumps({"wallMs": (time.monotonic() - started) * 1000, "results": results}))',
    ].join('\n'),
  );
  const out = spawnSync('python3', [script, url, sessionId, JSON.stringify(actions)], { encoding: 'utf8', timeout: 120_000 });
  if (out.status !== 0) throw new Error(`python: ${out.stderr}`);
  return JSON.parse(out.stdout);
}

/** One at a time, in arrival order: the log alternates start/end in step order, each step credited with its own files only. */
async function expectSerialised(env: LabEnv, results: LabStepResult[], wallMs: number, accepted: number[]): Promise<void> {
  const ids = results.map((_, i) => i);
  const sum = results.reduce((t, r) => t + (r.observation.durationMs ?? 0), 0);
  console.log(`${STEPS} concurrent steps: ${Math.round(wallMs)} ms in all, sum of their durations ${sum} ms`);
  for (const r of results) expect(r.observation, r.observation.text).toMatchObject({ ok: true, exitCode: 0 });
  const byStep = [...ids].sort((a, b) => results[a].info.step - results[b].info.step);
  const first = results[byStep[0]].info.step;
  expect(byStep.map((i) => results[i].info.step)).toEqual(ids.map((k) => first + k));
  // Arrival order: the order the workflow accepted the Updates is the order the steps ran in.
  expect(byStep).toEqual(accepted);
  const log = await env.step({ action: 'read_file', path: 'methods/log.txt' });
  expect(log.observation.text.trim().split('\n')).toEqual(byStep.flatMap((i) => [`start ${i}`, `end ${i}`]));
  for (const i of ids) {
    const paths = results[i].observation.filesChanged.map((f) => f.path).sort();
    expect(paths, `step of command ${i}`).toEqual(['methods/log.txt', `methods/step-${i}.txt`]);
  }
  // Total time is the sum of the steps' times, not the longest one.
  expect(wallMs).toBeGreaterThanOrEqual(STEPS * SLEEP_SECONDS * 1000);
  expect(wallMs).toBeGreaterThanOrEqual(0.95 * sum);
}

/** The indexes of the `run` steps in the order the workflow accepted them (every execution's history, oldest first). */
async function acceptedOrder(sessionId: string): Promise<number[]> {
  const runs: Array<{ runId: string; startTime: Date }> = [];
  for await (const w of stack.client.workflow.list({ query: `WorkflowId = '${sessionId}'` })) runs.push(w);
  runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  const order: number[] = [];
  for (const run of runs) {
    const events = (await stack.client.workflow.getHandle(sessionId, run.runId).fetchHistory()).events ?? [];
    for (const e of events) {
      const input = e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input;
      if (input?.name !== 'step') continue;
      const a = JSON.parse(Buffer.from(input!.args!.payloads![0].data!).toString('utf8'));
      const m = a.action === 'run' ? /^set -e; echo start (\d+) /.exec(a.command) : null;
      if (m) order.push(Number(m[1]));
    }
  }
  return order;
}

describe('concurrent steps', () => {
  it('run one at a time in arrival order (TypeScript client)', async () => {
    const env = new LabEnv(stack.url);
    await env.reset(TASK);
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: STEPS }, (_, i) => env.step(action(i))));
    const wallMs = Date.now() - started;
    await expectSerialised(env, results, wallMs, await acceptedOrder(env.sessionId!));
  });

  it('run one at a time in arrival order (Python client), across a continue-as-new', async () => {
    const env = new LabEnv(stack.url);
    // The session continues as new after 3 steps: the steps still queued then are answered, none lost.
    await env.reset(TASK, { limits: { stepsPerExecution: 3 } });
    const { wallMs, results } = pythonConcurrent(stack.url, env.sessionId!, Array.from({ length: STEPS }, (_, i) => action(i)));
    await expectSerialised(env, results, wallMs, await acceptedOrder(env.sessionId!));
    const view = (await env.session()) as { step: number; executions: number };
    expect(view.step).toBe(STEPS + 1);
    expect(view.executions).toBeGreaterThan(1);
  });
});

describe('errors', () => {
  /** A write_file whose JSON is over the server's 2 MiB limit. */
  const big = { action: 'write_file' as const, path: 'methods/big.txt', content: 'x'.repeat(3_000_000) };
  const LIMIT = 2 * 1024 * 1024;

  it('a body over the limit is a 413 naming the limit; both clients raise it at once; a wrong method is a 405', async () => {
    const raw = await fetch(`${stack.url}/step`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sessionId: 'env-big-body', action: big }) });
    expect(raw.status).toBe(413);
    expect(await raw.json()).toMatchObject({ error: expect.stringContaining(`${LIMIT} bytes`), limitBytes: LIMIT });

    const started = Date.now();
    const err = await new LabEnv(stack.url, { sessionId: 'env-big-body' }).step(big).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LabEnvError);
    expect(err).toMatchObject({ status: 413, message: expect.stringContaining(`${LIMIT} bytes`) });
    expect(Date.now() - started).toBeLessThan(10_000);

    const script = path.join(dir, 'big.py');
    writeFileSync(
      script,
      [
        'import json, sys, time',
        `sys.path.insert(0, ${JSON.stringify(path.join(PROJECT_ROOT, 'clients', 'python'))})`,
        'from lab_env import LabEnv, LabEnvError',
        'env = LabEnv(sys.argv[1], session_id="env-big-body")',
        'started = time.monotonic()',
        'try:',
        '    env.step({"action": "write_file", "path": "methods/big.txt", "content": "x" * 3000000})',
        'except LabEnvError as err:',
        '    print(json.dumps({"status": err.status, "message": err.message, "body": err.body, "seconds": time.monotonic() - started}))',
      ].join('\n'),
    );
    const py = spawnSync('python3', [script, stack.url], { encoding: 'utf8', timeout: 60_000 });
    expect(py.status, py.stderr).toBe(0);
    const answer = JSON.parse(py.stdout);
    expect(answer).toMatchObject({ status: 413, message: expect.stringContaining(`${LIMIT} bytes`), body: { limitBytes: LIMIT } });
    expect(answer.seconds).toBeLessThan(10);

    // A method an endpoint does not take: 405, in the same JSON form.
    const wrongMethod = await fetch(`${stack.url}/step`);
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toEqual({ error: 'GET is not allowed on /step' });

    // curl too (it sends `Expect: 100-continue` for a large body).
    const file = path.join(dir, 'big.json');
    writeFileSync(file, JSON.stringify({ sessionId: 'env-big-body', action: big }));
    const curl = spawnSync('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-H', 'content-type: application/json', '--data-binary', `@${file}`, `${stack.url}/step`], { encoding: 'utf8', timeout: 30_000 });
    expect(curl.stdout).toBe('413');
  });

  it('npx lab env serve: SIGTERM to npx stops the server and frees its port', async () => {
    const port = await freePort();
    // A user's shell: no npm variables (vitest may itself run under npx).
    const env = Object.fromEntries(Object.entries(stack.env()).filter(([k]) => !/^npm_/i.test(k)));
    const npx = spawn('npx', ['lab', 'env', 'serve', '--port', String(port)], { cwd: PROJECT_ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npx.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    npx.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitFor(async () => output.includes('serving on') || undefined, 'lab env serve to listen', 90_000);
      process.kill(npx.pid!, 'SIGTERM');
      await waitFor(() => portClosed(port), `port ${port} to be freed after SIGTERM to npx (output: ${output})`, 15_000, 200);
    } finally {
      try {
        process.kill(-npx.pid!, 'SIGKILL');
      } catch {
        // all gone
      }
    }
  });
});
