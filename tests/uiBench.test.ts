/**
 * The console's benchmark, competition and environment pages (issue 16), on a real Temporal dev
 * server and in-process workers with a scripted LLM, read over HTTP and in headless Chromium
 * (playwright-core, Debian's chromium). A three-task benchmark: one task's agent is refused by the
 * LLM (its failure reason carries markup, shown as text), another's is held until the test has seen
 * the page mid-way. The page shows progress moving, the failed item with its reason and run, and
 * after the retry button (token needed) only that item runs again; the leaderboard equals the
 * tables `lab report` builds from `loadBenchReport`, and its charts are sandboxed SVG images.
 * Screenshots go to the test's temp folder (printed).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchItemKey, type BenchmarkInput, type BenchResult } from '../common/benchmark.js';
import { withImprovement } from '../common/competition.js';
import { LAB_KIND, LAB_TASK } from '../common/searchAttributes.js';
import { buildReport } from '../report/buildReport.js';
import { cellText, reportTables, visibleColumns } from '../report/tables.js';
import { printedTables } from '../scripts/commands/report.js';
import { loadBenchReport, startBench } from '../scripts/lib/bench.js';
import { competitionsPage } from '../scripts/ui/pages/competitions.js';
import { startConsoleServer, type ConsoleServer } from '../scripts/ui/server.js';
import { itemRunId } from '../workflows/benchmark.js';
import { competitionRun } from '../workflows/competitionRun.js';
import { envSession } from '../workflows/envSession.js';
import type { FakeRequest } from './fakes/fakeLlmServer.js';
import { scriptedReply } from './fakes/recordedOutputs.js';
import { runLab } from './helpers/labProcesses.js';
import { startScriptedLab, tempDir, type ScriptedLab } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

const CHROMIUM = process.env.LAB_CHROMIUM ?? '/usr/bin/chromium';
const TEMPORAL_UI = 'http://temporal-ui.invalid:8233';
const TOKEN = 'bench-test-token-0123456789';
const dir = tempDir('ui-bench');
const taskDir = path.join(dir, 'tasks');
const screenshots = path.join(dir, 'screenshots');
const TASKS = ['synth2025_alpha', 'synth2025_beta', 'synth2025_gamma'];
const FAILING = TASKS[1];
const HELD = TASKS[2];
/** The refusal the failing task's agent gets: markup the page must show as text. */
const FAULT = 'injected fault <img src=x onerror="window.__labXss=1">';

let s: ScriptedLab;
let consoleServer: ConsoleServer;
let browser: Browser;
let context: BrowserContext;
let faultActive = true;
let release: () => void = () => {};
const held = new Promise<void>((resolve) => (release = resolve));
/** Agent calls per task, to see that a retry runs only the failed item. */
const agentCalls = new Map<string, number>();
const benchId = `bench-ui-${Date.now()}`;

const model = (name: string) => `openai-compatible:${name}@${s.fake.openaiBaseURL}`;
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
const taskOf = (prompt: string) => TASKS.find((t) => prompt.includes(`topic ${t}`));

function writeTasks(): void {
  for (const name of TASKS) {
    mkdirSync(path.join(taskDir, name), { recursive: true });
    writeFileSync(path.join(taskDir, name, 'task.md'), `# Workshop on topic ${name}\n\nThis workshop invites research on topic ${name}: methods, theory and evaluation.\n`);
  }
}

async function script(req: FakeRequest) {
  const modelName = String(req.body?.model ?? '');
  const task = taskOf(req.prompt);
  if (!modelName.startsWith('judge-') && task && req.prompt.startsWith('Propose one research idea')) {
    agentCalls.set(task, (agentCalls.get(task) ?? 0) + 1);
    if (task === FAILING && faultActive) return { status: 400, body: { error: { message: FAULT, type: 'invalid_request_error' } } };
    if (task === HELD) await held;
  }
  const text = scriptedReply(req.prompt, req.system);
  return text === undefined ? { status: 500, body: { error: { message: `no scripted answer for: ${req.prompt.slice(0, 60)}` } } } : { text };
}

function benchInput(): BenchmarkInput {
  return {
    tasks: taskDir,
    mode: 'stepwise',
    agents: [model('scripted-agent')],
    judges: [model('judge-a'), model('judge-b')],
    stages: ['idea'],
    reviews: ['idea'],
    concurrency: 3,
    stageTimeouts: { startToCloseSeconds: 120, heartbeatSeconds: 10, maxAttempts: 3 },
  };
}

const itemRun = (task: string) => itemRunId(benchId, { task, agent: model('scripted-agent') });
const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
  fetch(`${consoleServer.url}${path}`, { method: 'POST', body: new URLSearchParams(form), redirect: 'manual', headers });

/** Reloads until `probe` holds, advancing the page's own clock so its reload timer fires too. */
async function untilPage(page: Page, probe: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => {
    if (await probe()) return true;
    await page.reload();
    return undefined;
  }, what, timeoutMs, 300);
}

/** The page's leaderboard tables, cell by cell, must be the report's tables as `lab report` prints them. */
async function expectLeaderboardEqualsReport(page: Page): Promise<number> {
  const { exitCode: _exit, ...input } = await loadBenchReport(s.env.client, benchId);
  const tables = printedTables(reportTables(buildReport(input)));
  expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['scores_idea', 'cost']));
  expect(await page.locator('table.report').evaluateAll((ts) => ts.map((t) => t.getAttribute('data-table')))).toEqual(tables.map((t) => t.name));
  for (const table of tables) {
    const shown = await page.locator(`table.report[data-table="${table.name}"] tbody tr`).evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent)));
    const columns = visibleColumns(table);
    expect(shown, table.name).toEqual(table.rows.map((row) => columns.map((i) => cellText(row[i], table.columns[i]))));
  }
  return tables.find((t) => t.name === 'scores_idea')!.rows.length;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run npm run setup as root (it installs Debian's chromium), apt-get install chromium, or set LAB_CHROMIUM`);
  mkdirSync(screenshots, { recursive: true });
  writeTasks();
  s = await startScriptedLab(script, { dir });
  s.fake.models = ['scripted-agent', 'judge-a', 'judge-b'];
  consoleServer = await startConsoleServer({
    client: s.env.client,
    store: s.lab.store,
    host: '127.0.0.1',
    port: 0,
    decisionToken: TOKEN,
    decider: 'ui-bench test',
    temporalLink: (id) => `${TEMPORAL_UI}/namespaces/default/workflows/${id}`,
  });
  await startBench(s.env.client, benchId, benchInput());
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  context = await browser.newContext();
  // The pages' reload timers run only when the test moves this clock.
  await context.clock.install();
}, 120_000);

afterAll(async () => {
  release();
  await browser?.close();
  await consoleServer?.close();
  await s?.teardown();
  console.log(`uiBench.test screenshots: ${screenshots}`);
});

describe('benchmark pages', () => {
  let page: Page;

  it('lists the benchmark, and its page shows progress mid-way with the failed item, its reason (as text) and its run', async () => {
    page = await context.newPage();
    await page.goto(`${consoleServer.url}/`);
    await page.click('nav.site a[href="/benchmarks"]');
    await untilPage(page, async () => (await page.locator(`tr[data-bench-id="${benchId}"]`).count()) === 1, 'the benchmark in the list');
    await expect(page.locator(`tr[data-bench-id="${benchId}"] .bench-status`).textContent()).resolves.toBe('running');
    await expect(page.locator(`tr[data-bench-id="${benchId}"] a.temporal`).getAttribute('href')).resolves.toBe(`${TEMPORAL_UI}/namespaces/default/workflows/${benchId}`);
    await page.click(`tr[data-bench-id="${benchId}"] a[href^="/benchmarks/"]`);
    expect(new URL(page.url()).pathname).toBe(`/benchmarks/${benchId}`);

    // Alpha done, beta failed, gamma held at its idea: two of three finished, one running.
    await untilPage(page, async () => (await page.locator('.bench-finished').count()) === 1 && (await page.locator('.bench-finished').textContent()) === '2', 'two items finished');
    await expect(page.locator('.bench-items').textContent()).resolves.toBe('2 of 3 finished: 1 done, 1 failed, 0 skipped, 1 running');
    await expect(page.locator('progress.bench').getAttribute('value')).resolves.toBe('2');
    await expect(page.locator('.bench-status').textContent()).resolves.toBe('running');
    expect(await page.locator('.bench-left').textContent()).toMatch(/^\d+s$/);
    const failed = page.locator(`table.failures tr[data-item="${benchItemKey(FAILING, model('scripted-agent'))}"]`);
    await expect(failed.locator('td.reason').textContent()).resolves.toContain(FAULT);
    expect(await page.evaluate(() => (window as unknown as { __labXss?: number }).__labXss)).toBeUndefined();
    await expect(failed.locator('a.run').getAttribute('href')).resolves.toBe(`/runs/${itemRun(FAILING)}`);
    // No retry while it runs: the page says when it can be.
    expect(await page.locator('form#retry-form, button[name="item"]').count()).toBe(0);
    await expect(page.locator('body').textContent()).resolves.toContain('Failed items can be retried once the benchmark has finished');
    await shot(page, '1-benchmark-running');

    // A retry now gets `lab bench retry`'s refusal.
    const early = await post(`/benchmarks/${benchId}/retry`, { token: TOKEN });
    expect(early.status).toBe(303);
    const refused = await (await fetch(`${consoleServer.url}${early.headers.get('location')}`)).text();
    expect(refused).toContain(`retry refused: benchmark ${benchId} is still running; failed items can be retried once it has finished`);
  });

  it('moves on by itself: the page reloads until the benchmark has finished, then shows the leaderboard lab report prints, with its charts as sandboxed images', async () => {
    release();
    await page.evaluate(() => ((window as unknown as { labBeforeReload?: boolean }).labBeforeReload = true));
    await waitFor(async () => {
      await page.clock.runFor(10_500);
      await page.waitForLoadState();
      const reloaded = (await page.evaluate(() => (window as unknown as { labBeforeReload?: boolean }).labBeforeReload)) === undefined;
      return (reloaded && (await page.locator('.bench-status').textContent()) === 'completed') || undefined;
    }, 'the page to reload itself until the benchmark completed', 60_000, 500);
    await expect(page.locator('.bench-items').textContent()).resolves.toBe('3 of 3 finished: 2 done, 1 failed, 0 skipped');
    expect(await page.locator('.bench-left').count()).toBe(0);
    expect(await page.locator('body').getAttribute('data-refresh-seconds')).toBe('0');

    expect(await expectLeaderboardEqualsReport(page)).toBeGreaterThan(0);
    const images = page.locator('figure.chart img');
    expect(await images.count()).toBeGreaterThanOrEqual(2);
    await waitFor(async () => (await images.evaluateAll((imgs) => imgs.every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0))) || undefined, 'the charts to load', 20_000);
    const chart = await fetch(`${consoleServer.url}${await images.first().getAttribute('src')}`);
    expect(chart.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    expect(chart.headers.get('content-security-policy')).toBe("default-src 'none'; sandbox");
    expect(await chart.text()).toMatch(/^<svg /);
    expect((await fetch(`${consoleServer.url}/benchmarks/${benchId}/charts/..%2Freport.md`)).status).toBe(404);
    await page.locator('section.leaderboard').scrollIntoViewIfNeeded();
    await shot(page, '2-benchmark-completed-with-failure');
  });

  it('retries the failed item from its button once the token is given, and only that item runs again', async () => {
    faultActive = false;
    const callsBefore = new Map(agentCalls);
    const key = benchItemKey(FAILING, model('scripted-agent'));
    // Without the token: refused, and the benchmark stays as it was.
    await page.click(`button[name="item"][value="${key}"]`);
    await expect(page.locator('.notice.error').textContent()).resolves.toBe('retry refused: a token is needed (lab ui printed it when it started)');
    expect((await s.env.client.workflow.getHandle(benchId).describe()).status.name).toBe('COMPLETED');

    await page.fill('input[name="token"]', TOKEN);
    await page.click(`button[name="item"][value="${key}"]`);
    await expect(page.locator('.notice.ok').textContent()).resolves.toBe(`retrying benchmark ${benchId}: 2 finished item(s) kept, running ${key}`);
    await shot(page, '3-retrying');
    const result = (await s.env.client.workflow.getHandle(benchId).result()) as BenchResult;
    expect(result).toMatchObject({ total: 1, done: 1, failed: 0 });
    expect(agentCalls.get(FAILING)).toBe(callsBefore.get(FAILING)! + 1);
    expect(agentCalls.get(TASKS[0])).toBe(callsBefore.get(TASKS[0]));
    expect(agentCalls.get(HELD)).toBe(callsBefore.get(HELD));

    await untilPage(page, async () => (await page.locator('.bench-status').textContent()) === 'completed', 'the retried benchmark completed');
    expect(await page.locator('table.failures').count()).toBe(0);
    expect(await page.locator('form#retry-form').count()).toBe(0);
    await expectLeaderboardEqualsReport(page);
    const nTasks = await page.locator('table.report[data-table="scores_idea"] td[data-key="n_tasks"]').first().textContent();
    expect(nTasks).toBe('3');
    await shot(page, '4-retried-completed');

    // Nothing left to retry: the console and `lab bench retry` refuse with the same line (the cookie holds the token now).
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const again = await post(`/benchmarks/${benchId}/retry`, {}, { cookie });
    const shown = await (await fetch(`${consoleServer.url}${again.headers.get('location')}`)).text();
    const cli = await runLab(['bench', 'retry', benchId], { TEMPORAL_ADDRESS: s.env.address, LAB_HOME: path.join(dir, 'home') });
    expect(cli.code).toBe(1);
    const line = cli.stderr.trim().replace(/^lab bench: /, '');
    expect(line).toBe(`benchmark ${benchId} finished every item; nothing to retry (tables: lab report ${benchId})`);
    expect(shown).toContain(`retry refused: ${line}`);
  });

  it('links the benchmark to its research runs: the runs list filtered as lab list --benchmark', async () => {
    await page.click('a.bench-runs');
    expect(new URL(page.url()).search).toBe(`?benchmark=${benchId}`);
    const ids = await page.locator('table.runs tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run-id')));
    expect([...new Set(ids)].sort()).toEqual(TASKS.map(itemRun).sort());
    // The failed item's run is listed twice, as lab list lists it: its first execution failed, the retry's completed.
    const failedRun = await page.locator(`tr[data-run-id="${itemRun(FAILING)}"] td:nth-child(2)`).allTextContents();
    expect(failedRun.sort()).toEqual(['completed', 'failed']);
    await expect(page.locator('input[name="benchmark"]').inputValue()).resolves.toBe(benchId);
    const cli = await runLab(['list', '--benchmark', benchId, '--json'], { TEMPORAL_ADDRESS: s.env.address, LAB_HOME: path.join(dir, 'home') });
    expect(cli.code, cli.stderr).toBe(0);
    expect((JSON.parse(cli.stdout) as Array<{ runId: string }>).map((r) => r.runId).sort()).toEqual(ids.sort());
    await shot(page, '5-runs-of-benchmark');
    await page.close();
  });

  it('answers an unknown benchmark with the CLI\'s words, and a read-only console shows the retry command', async () => {
    const missing = await fetch(`${consoleServer.url}/benchmarks/no-such-bench`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('no benchmark with id &quot;no-such-bench&quot;');
    const readOnly = await startConsoleServer({ client: s.env.client, store: s.lab.store, host: '127.0.0.1', port: 0 });
    try {
      const refused = await fetch(`${readOnly.url}/benchmarks/${benchId}/retry`, { method: 'POST', body: new URLSearchParams({ token: TOKEN }), redirect: 'manual' });
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('retry refused: this console is read-only');
    } finally {
      await readOnly.close();
    }
  });
});

describe('competition and environment pages', () => {
  it('shows a scored run\'s gain over the baseline and the share of the gap closed, as the scorer computes them', () => {
    const score = withImprovement({
      task: 'friedman-regression', split: 'test', status: 'scored', metric: { name: 'rmse', direction: 'lower' },
      score: 1.5, baseline: 2, reference: 1, runtimeSeconds: 3, linesChanged: 12,
    });
    const html = competitionsPage({ rows: [{ runId: 'friedman-1', task: 'friedman-regression', model: 'm', started: new Date(), status: score.status, score }], temporalLink: () => undefined });
    expect(html).toContain('<td class="num gain">+0.5000</td>');
    expect(html).toContain('<td class="num gap">50.0%</td>');
  });

  it('lists a competition run and an environment session that failed, with the status and the workflow\'s reason', async () => {
    const competitionId = `compete-ui-${Date.now()}`;
    const sessionId = `env-ui-${Date.now()}`;
    await s.env.client.workflow.start(competitionRun, {
      taskQueue: 'research',
      workflowId: competitionId,
      args: [{ task: 'friedman-regression', model: 'nosuchprovider:<b>model</b>' }],
      typedSearchAttributes: [{ key: LAB_KIND, value: 'competition' }, { key: LAB_TASK, value: 'friedman-regression' }],
    });
    await s.env.client.workflow.start(envSession, {
      taskQueue: 'research',
      workflowId: sessionId,
      args: [{ task: 'not a competition name' }],
      typedSearchAttributes: [{ key: LAB_KIND, value: 'env' }, { key: LAB_TASK, value: 'not a competition name' }],
    });
    const competitions = await waitFor(async () => {
      const html = await (await fetch(`${consoleServer.url}/competitions`)).text();
      return html.includes(`data-run-id="${competitionId}"`) && html.includes('invalid competition run input') ? html : undefined;
    }, 'the failed competition run on /competitions', 30_000, 300);
    expect(row(competitions, competitionId)).toMatch(/<td class="status">failed<\/td>/);
    expect(row(competitions, competitionId)).not.toContain('<b>model</b>');
    const envs = await waitFor(async () => {
      const html = await (await fetch(`${consoleServer.url}/envs`)).text();
      return html.includes(`data-session-id="${sessionId}"`) && html.includes('invalid session input') ? html : undefined;
    }, 'the failed session on /envs', 30_000, 300);
    expect(row(envs, sessionId)).toMatch(/<td class="status">failed<\/td>/);
    expect(row(envs, sessionId)).toContain('task must be a competition name');
    const page = await context.newPage();
    await page.goto(`${consoleServer.url}/competitions`);
    await shot(page, '6-competitions');
    await page.click('nav.site a[href="/envs"]');
    await shot(page, '7-environments');
    await page.close();
  });
});

/** One table row of a list page, by the id it carries. */
function row(html: string, id: string): string {
  const start = html.indexOf(`="${id}"`);
  return html.slice(start, html.indexOf('</tr>', start));
}
