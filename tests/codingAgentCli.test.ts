/**
 * The optional experiment backend: an external coding-agent CLI run once in the run's sandbox
 * workspace instead of the step loop. A fake CLI (a shell script the test writes into the
 * workspace) reads PROMPT.md and writes results; the whole `experimentRun` child workflow runs on
 * real workers with the default (bubblewrap) sandbox. No LLM call is made for the stage; only the
 * variables LAB_CODING_AGENT_ENV names reach the sandbox; the network stays off unless
 * LAB_CODING_AGENT_NETWORK=1.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { codingAgentIsolation, firstWord } from '../activities/experiment/cliAgent.js';
import { workspaceDir } from '../activities/environment/workspace.js';
import { bubblewrapArgs } from '../activities/sandbox/index.js';
import type { ExperimentOutcome, ExperimentRunInput } from '../common/experiment.js';
import { sandboxLimitsSchema } from '../common/environment.js';
import { startScriptedLab, type ScriptedLab } from './helpers/temporal.js';

let scripted: ScriptedLab;
const savedEnv = { ...process.env };

beforeAll(async () => {
  // Any LLM call is a failure of this backend: the fake answers none usefully and counts them.
  scripted = await startScriptedLab(() => ({ status: 500, body: { error: 'no LLM call expected' } }));
}, 120_000);

afterAll(async () => {
  await scripted?.teardown();
});

afterEach(() => {
  for (const k of ['LAB_CODING_AGENT_ENV', 'LAB_CODING_AGENT_NETWORK', 'LAB_TEST_AGENT_KEY', 'LAB_TEST_OTHER_KEY']) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

/** A run's inputs in the store and the fake CLI in its workspace; returns the experiment input. */
async function prepare(runId: string, script: string, command = 'sh fake-agent.sh'): Promise<ExperimentRunInput> {
  const { store } = scripted.lab;
  const task = await store.put(runId, 'task.md', '# Task\nCalibrate a classifier under shift. TASK-MARKER');
  const idea = await store.put(runId, 'idea.md', '# Idea\nTemperature scaling. IDEA-MARKER');
  const proposal = await store.put(runId, 'proposal.md', '# Proposal\nCompare with a baseline. PROPOSAL-MARKER');
  const ws = workspaceDir(runId);
  mkdirSync(ws, { recursive: true });
  writeFileSync(path.join(ws, 'fake-agent.sh'), script);
  return {
    runId,
    model: `openai-compatible:scripted@${scripted.fake.openaiBaseURL}`,
    task,
    inputs: { idea, proposal },
    limits: { maxSteps: 30, wallSeconds: 600, stepsPerSegment: 10, sandbox: {}, agent: { kind: 'cli', command, limits: { wallSeconds: 120 } } },
  };
}

function runExperiment(input: ExperimentRunInput): Promise<ExperimentOutcome> {
  return scripted.env.client.workflow.execute('experimentRun', { taskQueue: 'research', workflowId: `${input.runId}-experiment`, args: [input] });
}

const FAKE_AGENT = `
set -e
# The instructions are there, with the task, the idea, the proposal and the rules.
for want in TASK-MARKER IDEA-MARKER PROPOSAL-MARKER 'results/' 'never write result numbers by hand'; do
  grep -q -- "$want" PROMPT.md || { echo "PROMPT.md lacks $want" >&2; exit 3; }
done
mkdir -p results
printf 'method,accuracy\\nbaseline,0.81\\nours,0.87\\n' > results/metrics.csv
echo "fake agent wrote results/metrics.csv"
`;

describe('experiment backend: a coding-agent CLI in the sandbox', () => {
  it('runs the CLI once in the workspace and builds results.md from what it wrote, with no LLM call', async () => {
    const runId = `cli-agent-${Date.now()}`;
    const before = scripted.fake.requests.length;
    const outcome = await runExperiment(await prepare(runId, FAKE_AGENT));
    expect(outcome).toMatchObject({ status: 'succeeded', end: 'finished', steps: 1, commands: 1 });
    expect(scripted.fake.requests.length).toBe(before);

    const { store } = scripted.lab;
    const results = await store.getText(outcome.results);
    expect(results).toContain('| method | accuracy |');
    expect(results).toContain('| ours | 0.87 |');
    expect(await store.getText(outcome.log)).toContain('sh fake-agent.sh');
    const folder = store.runFolder(runId);
    expect(readFileSync(path.join(folder, 'experiment', 'PROMPT.md'), 'utf8')).toContain('IDEA-MARKER');
    expect(readFileSync(path.join(folder, 'experiment', 'cli-agent-output.txt'), 'utf8')).toContain('fake agent wrote results/metrics.csv');
    expect(outcome.measured.some((m) => m.path.endsWith('results/metrics.csv'))).toBe(true);
  }, 120_000);

  it('passes only the variables LAB_CODING_AGENT_ENV names, and keeps the network off without LAB_CODING_AGENT_NETWORK', async () => {
    const server = net.createServer((s) => s.on('error', () => undefined).end('hello\n'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      process.env.LAB_CODING_AGENT_ENV = 'LAB_TEST_AGENT_KEY';
      process.env.LAB_TEST_AGENT_KEY = "sk-allowed 'quoted' $HOME value";
      process.env.LAB_TEST_OTHER_KEY = 'sk-planted-other';
      delete process.env.LAB_CODING_AGENT_NETWORK;
      const probe = (runId: string) =>
        prepare(
          runId,
          `env > agent-env.out
python3 -c "import socket; socket.create_connection(('127.0.0.1', ${port}), timeout=3); print('reachable')" > agent-net.out 2>/dev/null || echo unreachable > agent-net.out
grep -v -e '^0 lo' -e 'Inter-' -e 'face' /proc/net/dev | cut -d: -f1 | tr -d ' ' > agent-ifaces.out
mkdir -p results && printf 'k,v\\na,1\\n' > results/metrics.csv
`,
        );

      const offId = `cli-agent-env-${Date.now()}`;
      const off = await runExperiment(await probe(offId));
      expect(off.status).toBe('succeeded');
      const ws = workspaceDir(offId);
      const envOut = readFileSync(path.join(ws, 'agent-env.out'), 'utf8');
      expect(envOut).toContain("LAB_TEST_AGENT_KEY=sk-allowed 'quoted' $HOME value");
      expect(envOut).not.toContain('LAB_TEST_OTHER_KEY');
      expect(envOut).not.toContain('sk-planted-other');
      expect(envOut).not.toContain('LAB_CODING_AGENT_ENV');
      expect(readFileSync(path.join(ws, 'agent-net.out'), 'utf8').trim()).toBe('unreachable');
      expect(readFileSync(path.join(ws, 'agent-ifaces.out'), 'utf8').trim().split('\n').filter((l) => l && l !== 'lo')).toEqual([]);
      // The warning is in the record the paper stage and the user read.
      const log = await scripted.lab.store.getText(off.log);
      expect(log + readFileSync(path.join(scripted.lab.store.runFolder(offId), 'experiment', 'transcript.jsonl'), 'utf8')).toContain('RECEIVES LAB_TEST_AGENT_KEY');

      // With the explicit opt-in, the same command reaches the host's loopback.
      process.env.LAB_CODING_AGENT_NETWORK = '1';
      const onId = `cli-agent-net-${Date.now()}`;
      const on = await runExperiment(await probe(onId));
      expect(on.status).toBe('succeeded');
      expect(readFileSync(path.join(workspaceDir(onId), 'agent-net.out'), 'utf8').trim()).toBe('reachable');
    } finally {
      server.close();
    }
  }, 180_000);

  it('fails non-retryably with a clear message when the CLI is not in the sandbox', async () => {
    const runId = `cli-agent-missing-${Date.now()}`;
    const err = await runExperiment(await prepare(runId, 'exit 0', 'no-such-coding-agent -p "$(cat PROMPT.md)"')).catch((e) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause?.cause as Error & { type?: string };
    expect(cause.type).toBe('ConfigError');
    expect(cause.message).toContain('"no-such-coding-agent" is not found inside the bwrap sandbox');
  }, 120_000);

  it('keeps the passed variables off every command line and parses the worker settings', () => {
    const { args, dataFds } = bubblewrapArgs({
      workspace: '/tmp/ws',
      command: 'agent',
      limits: sandboxLimitsSchema.parse({}),
      python: { venv: '/opt/venv', basePrefixes: [] } as never,
      cpus: 1,
      privileged: false,
      uid: 65534,
      extraEnv: { KEY: 'sk-secret' },
    });
    expect(args.join(' ')).not.toContain('sk-secret');
    expect(args).toContain('--unshare-all');
    expect(args).not.toContain('--share-net');
    expect(dataFds[3]).toBe("KEY='sk-secret'\n");

    expect(codingAgentIsolation({})).toEqual({ shareNetwork: false, extraEnv: {}, warning: undefined });
    const iso = codingAgentIsolation({ LAB_CODING_AGENT_NETWORK: '1', LAB_CODING_AGENT_ENV: 'A, B', A: 'x', OTHER: 'y' });
    expect(iso.shareNetwork).toBe(true);
    expect(iso.extraEnv).toEqual({ A: 'x' });
    expect(iso.warning).toMatch(/SHARES THE HOST'S NETWORK.*RECEIVES A.*B named in LAB_CODING_AGENT_ENV is not set/);
    expect(() => codingAgentIsolation({ LAB_CODING_AGENT_ENV: 'PATH' })).toThrow(/not a variable the sandbox can take/);
    expect(firstWord('claude -p "$(cat PROMPT.md)"')).toBe('claude');
    expect(firstWord('FOO=1 ./bin/agent run')).toBe('./bin/agent');
  });
});
