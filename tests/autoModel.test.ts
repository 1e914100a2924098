/**
 * `--model auto` is chosen on a worker, from the worker's keys (issue 15, item 9): a worker process
 * with OPENAI_API_KEY (its base URL at the fake LLM) and a `lab` process without any key. lab run
 * says which model the worker chose, the run uses it, and lab status and lab list --model find it.
 */
import { type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_BENCH, LAB_KIND, LAB_MODEL, LAB_STATUS } from '../common/searchAttributes.js';
import { spawnDevServer, waitForPort } from '../scripts/lib/devServer.js';
import { FakeLlmServer } from './fakes/fakeLlmServer.js';
import { recordedOutput, scriptedReply } from './fakes/recordedOutputs.js';
import { freePort, runLab, sigkill, startWorkerProcess } from './helpers/labProcesses.js';
import { tempDir } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

const dir = tempDir('auto-model');
const labHome = path.join(dir, 'home');
const artifacts = path.join(labHome, 'artifacts');
const CHOSEN = 'openai:gpt-4.1-mini';
const NO_KEYS = { ANTHROPIC_API_KEY: '', OPENAI_API_KEY: '', OPENROUTER_API_KEY: '' };
let port: number;
let server: ChildProcess | undefined;
let worker: ChildProcess | undefined;
let fake: FakeLlmServer;

/** The CLI's environment has no provider key at all. */
const lab = (...args: string[]) => runLab(args, { ...NO_KEYS, TEMPORAL_ADDRESS: `127.0.0.1:${port}`, LAB_HOME: labHome, LAB_ARTIFACT_DIR: artifacts });

async function statusOf(runId: string) {
  const s = await lab('status', runId, '--json');
  return JSON.parse(s.stdout);
}

beforeAll(async () => {
  port = await freePort();
  fake = await new FakeLlmServer((req) => ({ text: scriptedReply(req.prompt) ?? recordedOutput('idea'), delayMs: 10 })).start();
  fake.models = ['gpt-4.1-mini'];
  // The worker's price table lists the chosen model at $0, so a USD budget cannot limit it there.
  const prices = path.join(dir, 'prices.json');
  writeFileSync(prices, JSON.stringify({ [CHOSEN]: { input: 0, output: 0 } }));
  server = spawnDevServer({ port, uiPort: 0, dbFile: path.join(dir, 'temporal.db'), headless: true, logFile: path.join(dir, 'server.log') });
  await waitForPort(port, 60_000, server);
  worker = await startWorkerProcess({
    port,
    labHome,
    logFile: path.join(dir, 'worker.log'),
    readyWithinMs: 90_000,
    env: { ...NO_KEYS, OPENAI_API_KEY: 'worker-only-key', OPENAI_BASE_URL: fake.openaiBaseURL, LAB_PRICES_FILE: prices, LAB_ARTIFACT_DIR: artifacts, LAB_WORKSPACE_DIR: path.join(dir, 'ws') },
  });
}, 150_000);

afterAll(async () => {
  await sigkill(worker);
  await sigkill(server);
  await fake?.stop();
});

describe('--model auto is chosen on the worker', () => {
  it('lab run (default auto) runs on the provider whose key the worker has, and says so', async () => {
    const r = await lab('run', 'calibration-under-shift', '--gate', 'idea');
    expect(r.code, r.stderr).toBe(0);
    const runId = /started run (\S+)/.exec(r.stdout)![1];
    expect(r.stdout).toContain(`model  ${CHOSEN} (auto: chosen by a worker from its keys)`);
    expect(r.stdout).not.toContain('embedded');
    expect(fake.requests.some((q) => q.flavour === 'openai' && q.body?.model === 'gpt-4.1-mini' && q.headers.authorization === 'Bearer worker-only-key')).toBe(true);
    expect((await statusOf(runId)).model).toBe(CHOSEN);
    const listed = await lab('list', '--model', CHOSEN, '--json');
    expect(JSON.parse(listed.stdout).map((x: { runId: string }) => x.runId)).toContain(runId);
  }, 60_000);

  it('without the preflight, the run chooses when it starts: status, list --model and the LLM calls show the chosen model', async () => {
    const r = await lab('run', 'calibration-under-shift', '--model', 'auto', '--gate', 'idea', '--no-preflight', '--detach');
    expect(r.code, r.stderr).toBe(0);
    const runId = /started run (\S+)/.exec(r.stdout)![1];
    expect(r.stdout).toContain('model  auto (a worker chooses from its keys when the run starts; lab status shows which)');
    const s = await waitFor(async () => {
      const st = await statusOf(runId);
      return st.progress?.pendingGate?.stage === 'idea' ? st : undefined;
    }, 'the idea gate');
    expect(s.model).toBe(CHOSEN);
    expect(s.progress.model).toBe(CHOSEN);
    const listed = await lab('list', '--model', CHOSEN, '--json');
    expect(JSON.parse(listed.stdout).map((x: { runId: string }) => x.runId)).toContain(runId);
  }, 60_000);

  it('a USD budget the chosen model’s price cannot enforce fails the run before any LLM call', async () => {
    const before = fake.requests.length;
    const r = await lab('run', 'calibration-under-shift', '--budget-usd', '1', '--no-preflight', '--detach');
    expect(r.code, r.stderr).toBe(0);
    const runId = /started run (\S+)/.exec(r.stdout)![1];
    const s = await waitFor(async () => {
      const st = await statusOf(runId);
      return st.execution === 'FAILED' ? st : undefined;
    }, 'the run to fail');
    expect(JSON.stringify(s)).toContain(`--model auto chose ${CHOSEN} on the worker: --budget-usd needs a price for ${CHOSEN}`);
    expect(s.model).toBe(CHOSEN);
    expect(fake.requests.length).toBe(before);

    // lab resume --model auto leaves the choice to a worker too (the CLI has no key: it would pick embedded).
    const resumed = await lab('resume', runId, '--model', 'auto', '--max-tokens', '1000000', '--detach', '--json');
    expect(resumed.code, resumed.stderr).toBe(0);
    const resumedId = JSON.parse(resumed.stdout).runId as string;
    const r2 = await waitFor(async () => {
      const st = await statusOf(resumedId);
      return st.model && st.model !== 'auto' ? st : undefined;
    }, 'the resumed run to choose its model');
    expect(r2.model).toBe(CHOSEN);
    // Stopped here (if it has not ended already): its LLM calls would run on into the next test's count.
    const stopped = await lab('cancel', resumedId, '--terminate');
    expect(stopped.code === 0 || /has already ended/.test(stopped.stderr), stopped.stderr).toBe(true);
  }, 90_000);
});

describe('lab compete --model auto', () => {
  it('the competition run chooses on the worker, records the choice, and refuses an unenforceable USD budget before preparing anything', async () => {
    const before = fake.requests.length;
    const r = await lab('compete', 'friedman-regression', '--budget-usd', '1', '--detach', '--json');
    expect(r.code, r.stderr).toBe(0);
    const [id] = JSON.parse(r.stdout).runs as string[];
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    try {
      const handle = new Client({ connection }).workflow.getHandle(id);
      await expect(handle.result()).rejects.toThrow();
      const failure = await handle.result().catch((err: Error & { cause?: Error }) => err.cause?.message ?? err.message);
      expect(failure).toContain(`--model auto chose ${CHOSEN} on the worker: --budget-usd needs a price for ${CHOSEN}`);
      const d = await handle.describe();
      expect(d.typedSearchAttributes.get(LAB_MODEL)).toBe(CHOSEN);
      expect(d.typedSearchAttributes.get(LAB_STATUS)).toBe('failed');
    } finally {
      await connection.close();
    }
    expect(fake.requests.length).toBe(before);
  }, 60_000);
});

describe('lab judge --judge auto', () => {
  it('the preflight chooses the judge on the worker and the review starts with it', async () => {
    const outputs = path.join(dir, 'other-agent');
    mkdirSync(outputs, { recursive: true });
    writeFileSync(path.join(outputs, 'task.md'), '# A task\n\nStudy something.\n');
    writeFileSync(path.join(outputs, 'idea.md'), recordedOutput('idea'));
    const r = await lab('judge', '--dir', outputs, '--kind', 'idea', '--detach');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`started 1 review(s) of other-agent by ${CHOSEN} (auto: chosen by a worker from its keys)`);
  }, 60_000);
});

describe('lab bench --agent auto', () => {
  it("the benchmark's worker chooses once, for the agents and the default judge, and its items run with the choice", async () => {
    const r = await lab('bench', '--tasks', 'calibration-under-shift', '--agent', 'auto', '--stages', 'idea', '--reviews', 'idea', '--detach', '--json');
    expect(r.code, r.stderr).toBe(0);
    const { benchId } = JSON.parse(r.stdout) as { benchId: string };
    const connection = await Connection.connect({ address: `127.0.0.1:${port}` });
    try {
      const client = new Client({ connection });
      // The item's research run carries the model the worker chose (the CLI, with no key, would have picked embedded).
      const models = await waitFor(async () => {
        const found: string[] = [];
        for await (const w of client.workflow.list({ query: `${LAB_BENCH.name} = '${benchId}' AND ${LAB_KIND.name} = 'research'` })) {
          const m = w.typedSearchAttributes.get(LAB_MODEL);
          if (m) found.push(m);
        }
        return found.length ? found : undefined;
      }, 'the benchmark item to start');
      expect(models).toEqual([CHOSEN]);
      await client.workflow.getHandle(benchId).terminate('test done');
    } finally {
      await connection.close();
    }
  }, 90_000);
});
