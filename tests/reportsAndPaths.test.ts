/**
 * Where `lab report`, `lab tasks import` and `lab export` write by default (under LAB_HOME, not the
 * working folder; the absolute path printed), what a report says about a benchmark that is still
 * running or whose every item failed (partial / failed, with the exit codes of the README), the
 * HTML's tables inside their page, chart legends that tell agents apart, and which Temporal server
 * `npm run demo` attaches to.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportsDir, importedTasksDir, LEGACY_IMPORTED_TASKS_DIR, reportsDir } from '../activities/config.js';
import { buildReport } from '../report/buildReport.js';
import { legendLabels, renderCharts } from '../report/render/charts.js';
import { renderHtml } from '../report/render/html.js';
import { renderMarkdown } from '../report/render/markdown.js';
import { reportTables } from '../report/tables.js';
import type { ReportInput, ReviewRecord } from '../report/types.js';
import { chooseDemoServer } from '../scripts/demo.js';
import { benchReportState } from '../scripts/lib/bench.js';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import type { FakeBenchInput } from './fakes/benchStates.workflows.js';
import { runLab } from './helpers/labProcesses.js';
import { createDevServerEnv, quietRuntime } from './helpers/temporal.js';

const FIXTURE = path.join(PROJECT_ROOT, 'tests', 'fixtures', 'reviews');

function tmp(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `lab-paths-${prefix}-`));
}

describe('default folders are under LAB_HOME, not the working folder', () => {
  it('the path helpers follow LAB_HOME', () => {
    const env = { LAB_HOME: '/srv/lab' };
    expect([reportsDir(env), exportsDir(env), importedTasksDir(env)]).toEqual(['/srv/lab/reports', '/srv/lab/exports', '/srv/lab/tasks']);
  });

  it('lab report writes <LAB_HOME>/reports/<name>/ and prints the absolute folder; --out still works', async () => {
    const cwd = tmp('cwd');
    const home = path.join(tmp('home'), 'lab');
    const r = await runLab(['report', '--reviews', FIXTURE], { LAB_HOME: home }, cwd);
    expect(r.code, r.stderr).toBe(0);
    const dir = path.join(home, 'reports', 'reviews');
    expect(existsSync(path.join(dir, 'report.html'))).toBe(true);
    expect(readdirSync(cwd)).toEqual([]);
    expect(r.stdout).toContain(`files to ${dir}:`);

    const out = await runLab(['report', '--reviews', FIXTURE, '--out', 'mine'], { LAB_HOME: home }, cwd);
    expect(out.code, out.stderr).toBe(0);
    expect(existsSync(path.join(cwd, 'mine', 'report.md'))).toBe(true);
    expect(out.stdout).toContain(`files to ${path.join(cwd, 'mine')}:`);
  });

  it('lab tasks import writes <LAB_HOME>/tasks/, where lab tasks finds it by name; --dest still works', async () => {
    const cwd = tmp('cwd');
    const home = path.join(tmp('home'), 'lab');
    const name = `zzpaths${process.pid}_imported`;
    const src = tmp('src');
    writeFileSync(path.join(src, `${name}.md`), '# A task imported under LAB_HOME\nbody');
    const r = await runLab(['tasks', 'import', src], { LAB_HOME: home }, cwd);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(path.join(home, 'tasks', name, 'task.md'), 'utf8')).toContain('imported under LAB_HOME');
    expect(r.stdout).toContain(`into ${path.join(home, 'tasks')}`);
    expect(readdirSync(cwd)).toEqual([]);
    expect(existsSync(path.join(LEGACY_IMPORTED_TASKS_DIR, name))).toBe(false);

    const list = await runLab(['tasks', 'list', '--json'], { LAB_HOME: home }, cwd);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name, folder: path.join(home, 'tasks', name) })]));

    const dest = await runLab(['tasks', 'import', src, '--dest', 'here'], { LAB_HOME: home }, cwd);
    expect(dest.code, dest.stderr).toBe(0);
    expect(existsSync(path.join(cwd, 'here', name, 'task.md'))).toBe(true);
    expect(dest.stdout).toContain(`into ${path.join(cwd, 'here')}`);
  });
});

describe('npm run demo attaches only to a server it knows', () => {
  function listen(): Promise<net.Server> {
    return new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => resolve(s));
    });
  }

  it('a port taken by a server lab server did not record: its own dev server on a free port', async () => {
    const foreign = await listen();
    const port = (foreign.address() as net.AddressInfo).port;
    try {
      const choice = await chooseDemoServer({ preferredPort: port, env: { LAB_HOME: tmp('home') } });
      expect(choice.action).toBe('start');
      expect(choice.port).not.toBe(port);
      expect(choice.action === 'start' && choice.uiPort).toBe(choice.port + 1000);
      expect(choice.why).toMatch(new RegExp(`port ${port} .*taken.*starting its own Temporal dev server on port ${choice.port}`));
    } finally {
      foreign.close();
    }
  });

  it('the lab server recorded in server.json is used; TEMPORAL_ADDRESS is used as given', async () => {
    const ours = await listen();
    const port = (ours.address() as net.AddressInfo).port;
    try {
      const state = { pid: process.pid, temporalPid: process.pid, address: `localhost:${port}`, port, uiPort: null, uiUrl: null, dbFile: '/x/temporal.db', startedAt: '' };
      expect(await chooseDemoServer({ preferredPort: port, env: {}, state })).toMatchObject({ action: 'use', port });
      expect(await chooseDemoServer({ env: { TEMPORAL_ADDRESS: 'temporal.internal:7400' } })).toMatchObject({ action: 'use', port: 7400 });
    } finally {
      ours.close();
    }
  });
});

function record(agent: string, judge: string, task: string, score: number): ReviewRecord {
  return { kind: 'idea', task, agent, judge, scores: { OverallAssessment: score, Novelty: score - 1 }, source: `${task}-${agent}` };
}

describe('the HTML page and the charts', () => {
  const agents = ['openai-compatible:qwen2.5:7b-instruct@http://gpu-1:8000/v1', 'openai-compatible:llama3.1:8b-instruct@http://gpu-1:8000/v1'];
  const input: ReportInput = {
    title: 'benchmark wide',
    records: agents.flatMap((a, i) => ['t1', 't2'].map((t) => record(a, 'anthropic:claude-sonnet-4-5', t, 6 + i))),
    runs: [],
    failures: [{ task: 't3', agent: agents[0], part: 'research', reason: `the provider answered 500: ${'a very long reason without spaces_'.repeat(12)}` }],
  };

  it('every table sits in a box that scrolls sideways, and long cells wrap', async () => {
    const report = buildReport(input);
    const html = renderHtml(report, reportTables(report), []);
    const tables = html.match(/<table>/g) ?? [];
    expect(tables.length).toBeGreaterThan(0);
    expect(html.match(/<div class="table-wrap"><table>/g)).toHaveLength(tables.length);
    const style = html.split('<style>')[1].split('</style>')[0];
    expect(style).toMatch(/\.table-wrap \{[^}]*overflow-x: auto/);
    expect(style).toMatch(/td \{[^}]*overflow-wrap: anywhere/);
  });

  it('the legend names each agent by what tells it apart, never a cut-off provider prefix', async () => {
    const charts = await renderCharts(buildReport(input));
    const svg = charts.find((c) => c.file === 'scores_idea.svg')!.svg;
    expect(svg).toContain('qwen2.5:7b-instruct');
    expect(svg).toContain('llama3.1:8b-instruct');
    expect(svg).not.toContain('openai-compatible:…');
  });

  it('legend labels: the shortest level that is distinct for every agent', () => {
    const labels = (a: string[]) => a.map((x) => legendLabels(a).get(x));
    expect(labels(['openrouter:google/gemini-2.5-pro', 'openai:gpt-4.1', 'claude'])).toEqual(['gemini-2.5-pro', 'gpt-4.1', 'claude']);
    expect(labels(['openai-compatible:qwen@http://a:1/v1', 'openai-compatible:qwen@http://b:1/v1'])).toEqual(['qwen@http://a:1/v1', 'qwen@http://b:1/v1']);
    expect(labels(['openrouter:a/m', 'openrouter:b/m'])).toEqual(['a/m', 'b/m']);
    expect(labels(['embedded:/models/gemma.gguf', 'embedded'])).toEqual(['gemma', 'embedded']);
  });
});

describe('a report says where its benchmark stands', () => {
  const counts = { total: 4, done: 0, failed: 4, skipped: 0, spent: { llmCalls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 }, failures: [] };

  it('benchReportState: running is partial (exit 0), every item failed is failed (3), budget before any item is 4', () => {
    expect(benchReportState({ execution: 'RUNNING' })).toMatchObject({ state: 'running', exitCode: 0, note: expect.stringMatching(/^partial: /) });
    expect(benchReportState({ execution: 'COMPLETED', result: { benchId: 'b', ...counts } })).toMatchObject({ state: 'failed', exitCode: 3, note: expect.stringMatching(/^failed: every item failed/) });
    expect(benchReportState({ execution: 'COMPLETED', result: { benchId: 'b', ...counts, done: 3, failed: 1 } })).toMatchObject({ state: 'completed', exitCode: 0 });
    expect(benchReportState({ execution: 'COMPLETED', result: { benchId: 'b', ...counts, failed: 0, skipped: 4 } })).toMatchObject({ state: 'stopped', exitCode: 4 });
    expect(benchReportState({ execution: 'TERMINATED' })).toMatchObject({ state: 'stopped', exitCode: 3 });
  });

  it('the state heads report.md and report.html', () => {
    const report = buildReport({ title: 'benchmark b', state: { state: 'running', note: 'partial: still running' }, records: [], runs: [], failures: [] });
    expect(renderMarkdown(report, reportTables(report), [])).toContain('# benchmark b\n\n**Status:** partial: still running\n');
    expect(renderHtml(report, reportTables(report), [])).toContain('<p class="state state-running"><strong>Status:</strong> partial: still running</p>');
  });

  describe('lab report and lab bench status on benchmarks in a dev server', () => {
    let env: TestWorkflowEnvironment;
    let worker: Worker;
    let running: Promise<void>;
    const home = path.join(tmp('home'), 'lab');
    const cwd = tmp('cwd');
    const stamp = Date.now();
    const runningId = `bench-partial-${stamp}`;
    const failedId = `bench-allfailed-${stamp}`;
    const agent = 'openai-compatible:qwen2.5:7b@http://gpu:8000/v1';
    const lab = (...args: string[]) => runLab(args, { TEMPORAL_ADDRESS: env.address, LAB_HOME: home }, cwd);

    beforeAll(async () => {
      mkdirSync(home, { recursive: true });
      // The all-failed benchmark's children fail on purpose: no warning per failed workflow.
      quietRuntime(new DefaultLogger(process.env.LAB_TEST_LOGS ? 'INFO' : 'ERROR'));
      env = await createDevServerEnv();
      const workflowBundle = await bundleWorkflowCode({
        workflowsPath: fileURLToPath(new URL('./fakes/benchStates.workflows.ts', import.meta.url)),
        logger: new DefaultLogger('WARN'),
      });
      worker = await Worker.create({ connection: env.nativeConnection, taskQueue: 'fake-bench', workflowBundle });
      running = worker.run();
      const start = (id: string, input: FakeBenchInput) => env.client.workflow.start('benchmark', { taskQueue: 'fake-bench', workflowId: id, args: [input] });
      await start(runningId, { state: 'running', agents: [agent] });
      await (await start(failedId, { state: 'all-failed', agents: [agent, 'openai:gpt-4.1-mini'] })).result();
      // Visibility lists the finished review of the running benchmark and both failed runs.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const a = await env.client.workflow.count(`LabBench = '${runningId}' AND ExecutionStatus = 'Completed'`);
        const b = await env.client.workflow.count(`LabBench = '${failedId}' AND ExecutionStatus = 'Failed'`);
        if (a.count === 1 && b.count === 2) break;
        if (Date.now() > deadline) throw new Error('children not visible');
        await new Promise((r) => setTimeout(r, 200));
      }
    }, 90_000);

    afterAll(async () => {
      await env?.client.workflow.getHandle(runningId).terminate('test over').catch(() => undefined);
      worker?.shutdown();
      await running?.catch(() => undefined);
      await env?.teardown();
    });

    it('a running benchmark: a partial report of what has finished, with a warning, exit 0', async () => {
      const r = await lab('report', runningId);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`lab report: ${runningId}: partial: the benchmark is still running; 1 of 4 items finished`);
      const dir = path.join(home, 'reports', runningId);
      expect(r.stdout).toContain(`files to ${dir}:`);
      const md = readFileSync(path.join(dir, 'report.md'), 'utf8');
      expect(md).toMatch(/\*\*Status:\*\* partial: the benchmark is still running; 1 of 4 items finished .*3 running/);
      const json = JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8'));
      expect(json.state.state).toBe('running');
      expect(json.summary.records).toBe(1);
      expect(json.tables.scores_idea.rows).toEqual([expect.objectContaining({ agent })]);
    });

    it('a benchmark whose every item failed: reported as failed, exit 3 (lab report and lab bench status)', async () => {
      const r = await lab('report', failedId);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout).toContain('failed: every item failed (2 of 2 items)');
      expect(r.stderr).toContain('failed: every item failed');
      const md = readFileSync(path.join(home, 'reports', failedId, 'report.md'), 'utf8');
      expect(md).toContain('**Status:** failed: every item failed');
      expect(md).not.toMatch(/Status:\*\* completed/);

      const status = await lab('bench', 'status', failedId);
      expect(status.code).toBe(3);
      expect(status.stdout.split('\n')[0]).toBe(`benchmark ${failedId}: failed`);
    });
  });
});
