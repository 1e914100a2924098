/**
 * The web console (issue 16) in a real browser: `lab ui` as a real process against a dev server
 * (with its own Temporal UI) and in-process workers with a scripted LLM, driven by playwright-core
 * with Debian's Chromium (headless). It finds a gated run in the list, opens it, reads the rendered
 * idea (the scripted idea carries HTML: shown as text), approves it with the printed token, revises
 * another with feedback and sees its gate move, gets the CLI's own line for a decision that lost
 * the race, sees who decided (the console's name and a CLI reviewer's) from the run's history, and
 * on a finished run the paper's unsupported number marked, the experiment's step timeline, and the
 * run's stage activities in the Temporal UI. Screenshots go to the test's temp folder (printed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_STATUS, LAB_TASK } from '../common/searchAttributes.js';
import type { ResearchRunResult, RunProgress } from '../common/schemas.js';
import type { StageName } from '../common/stages.js';
import { listCommand } from '../scripts/commands/list.js';
import { prepareRun, startRun } from '../scripts/lib/runs.js';
import { PROJECT_ROOT } from '../scripts/lib/paths.js';
import { tokenMatches } from '../scripts/ui/decisionToken.js';
import { startConsoleServer } from '../scripts/ui/server.js';
import { Client, Connection } from '@temporalio/client';
import { renderDocument } from '../scripts/ui/document.js';
import { parseTranscript } from '../activities/experiment/transcript.js';
import { escapeHtml } from '../scripts/ui/html.js';
import { RUN_STATUSES } from '../scripts/ui/runList.js';
import type { FakeRequest } from './fakes/fakeLlmServer.js';
import { recordedOutput, scriptedReply } from './fakes/recordedOutputs.js';
import { experimentStep, scriptedExperimentReply } from './fakes/scriptedExperiment.js';
import { freePort, runLab } from './helpers/labProcesses.js';
import { startScriptedLab, tempDir, type ScriptedLab } from './helpers/temporal.js';
import { waitFor } from './helpers/wait.js';

describe('console building blocks (pure)', () => {
  it('escapes text for content and attributes', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(escapeHtml(undefined)).toBe('');
  });

  it('marks a flagged number at its line and column, escapes the rest, and lists what it cannot place', () => {
    const text = '# <Title>\nWe reach 0.91 and 0.91 again.\nOnly 12.5% here.';
    const { html, unplaced } = renderDocument(text, [
      { line: 2, column: 18, text: '0.91', reason: 'in no measured file' },
      { line: 3, column: 0, text: '12.5%', reason: 'a "typed" <file>' },
      { line: 2, column: 0, text: '7.7', reason: 'gone' },
      { line: 9, column: 0, text: '1', reason: 'past the end' },
    ]);
    expect(html).toBe(
      '<div class="doc"><h1>&lt;Title&gt;</h1>\n<p>We reach 0.91 and <mark class="flag" title="in no measured file" data-finding="document:2:18">0.91</mark> again.\nOnly <mark class="flag" title="a &quot;typed&quot; &lt;file&gt;" data-finding="document:3:0">12.5%</mark> here.</p>\n</div>',
    );
    expect(unplaced.map((m) => m.text)).toEqual(['7.7', '1']);
  });

  it('takes the statuses lab list takes, and compares tokens by digest', () => {
    expect(listCommand.usage).toContain(`--status ${RUN_STATUSES.join('|')}]`);
    expect(tokenMatches('secret-token', 'secret-token')).toBe(true);
    expect(tokenMatches('secret-token', 'secret-tokeN')).toBe(false);
    expect(tokenMatches('secret-token', '')).toBe(false);
  });
});

const CHROMIUM = process.env.LAB_CHROMIUM ?? '/usr/bin/chromium';
const dir = tempDir('ui');
const screenshots = path.join(dir, 'screenshots');
/** The dev server's own Temporal UI, where the test finds a run's stage activities. */
let TEMPORAL_UI = '';
const DECIDER = 'Ada Reviewer';
/** The idea carries markup: the page must show it as text, never run it. */
const IDEA_TITLE = 'Shift-aware <script>window.__labXss = 1</script> calibration & "ensembles"';
const IDEA = `# ${IDEA_TITLE}\n\n## Motivation\nModels are over-confident under shift.\n\n## Main Idea\nTemperature-scale per domain.`;
const FEEDBACK = 'Name the baselines and the datasets.';
const REVISED_TITLE = 'Shift-aware calibration against named baselines';
/** The paper states a result no file the experiment wrote holds: the integrity check flags it. */
const PAPER = ['# Calibration under shift', '## Results', 'The proposed method reached a mean score of 0.9912 on the shifted data.'].join('\n\n');

let s: ScriptedLab;
let browser: Browser;
let context: BrowserContext;
let consoleProcess: ChildProcess;
let consoleUrl: string;
let token: string;
const runs = { approve: '', revise: '', finished: '' };

const model = () => `openai-compatible:scripted@${s.fake.openaiBaseURL}`;
const labEnv = () => ({ TEMPORAL_ADDRESS: s.env.address, LAB_HOME: path.join(dir, 'home'), LAB_ARTIFACT_DIR: s.lab.store.root, LAB_UI_URL: TEMPORAL_UI });
const progress = (id: string) => s.env.client.workflow.getHandle(id).query<RunProgress>('progress');
const shot = (page: Page, name: string) => page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });

async function startResearchRun(id: string, gates: StageName[]): Promise<string> {
  const { input } = await prepareRun({ task: 'calibration-under-shift', model: model(), workflowId: id, gates: { stages: gates } });
  await startRun(s.env.client, id, { ...input, skipPreflight: true });
  return id;
}

async function waitForGate(runId: string, revisionsUsed: number): Promise<void> {
  await waitFor(async () => {
    const g = (await progress(runId)).pendingGate;
    return g?.stage === 'idea' && g.revisionsUsed === revisionsUsed;
  }, `${runId} at the idea gate, revision ${revisionsUsed}`);
}

/** `node scripts/lab.mjs ui ...`; resolves once it has printed what it prints at start. */
async function startConsole(args: string[]): Promise<{ child: ChildProcess; url: string; token?: string; stderr: () => string }> {
  const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'scripts', 'lab.mjs'), 'ui', ...args], { cwd: PROJECT_ROOT, env: { ...process.env, ...labEnv() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const started = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lab ui did not start within 30 s: ${stdout}${stderr}`)), 30_000);
    child.stdout!.on('data', (d) => {
      stdout += d;
      if (/lab ui: (decisions allowed.*; token: \S+|read-only)/.test(stdout)) {
        clearTimeout(timer);
        resolve(stdout);
      }
    });
    child.once('exit', (code) => reject(new Error(`lab ui exited (${code}): ${stdout}${stderr}`)));
  });
  return { child, url: /serving on (http:\/\/\S+)/.exec(started)![1], token: /token: (\S+)/.exec(started)?.[1], stderr: () => stderr };
}

function stopConsole(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run npm run setup as root (it installs Debian's chromium), apt-get install chromium, or set LAB_CHROMIUM`);
  mkdirSync(screenshots, { recursive: true });
  const uiPort = await freePort();
  TEMPORAL_UI = `http://127.0.0.1:${uiPort}`;
  s = await startScriptedLab(
    (req: FakeRequest) => {
      if (req.prompt.startsWith('Propose one research idea')) return { text: req.prompt.includes(FEEDBACK) ? `# ${REVISED_TITLE}\n\n## Motivation\nAs before.\n\n## Main Idea\nAgainst named baselines.` : IDEA };
      if (req.prompt.startsWith('Write the paper')) return { text: PAPER };
      const step = experimentStep(req.prompt);
      if (step !== undefined) return { text: scriptedExperimentReply(step) };
      return { text: scriptedReply(req.prompt) ?? recordedOutput('idea') };
    },
    { dir, uiPort },
  );
  s.fake.models = ['scripted'];
  const t = Date.now();
  // The finished run goes first: it has the most to do while the browser works on the others.
  runs.finished = await startResearchRun(`ui-finished-${t}`, []);
  runs.approve = await startResearchRun(`ui-approve-${t}`, ['idea']);
  runs.revise = await startResearchRun(`ui-revise-${t}`, ['idea']);
  const started = await startConsole(['--port', String(await freePort()), '--allow-decisions', '--token-name', DECIDER]);
  consoleProcess = started.child;
  consoleUrl = started.url;
  token = started.token!;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  context = await browser.newContext();
  // The pages' own timers (the reload every 10 s while a run is open) run only when a test moves this clock.
  await context.clock.install();
  await Promise.all([waitForGate(runs.approve, 0), waitForGate(runs.revise, 0)]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (consoleProcess) await stopConsole(consoleProcess);
  await s?.teardown();
  console.log(`ui.test screenshots: ${screenshots}`);
});

describe('lab ui in a browser', () => {
  it('lists the runs waiting for review, newest first, each linked to its page and to the Temporal UI', async () => {
    expect(consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const page = await context.newPage();
    // The list reads Temporal's visibility store, which follows the runs' search attributes a moment later.
    const ids = await waitFor(async () => {
      await page.goto(`${consoleUrl}/?status=awaiting_review`);
      const found = await page.locator('table.runs tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-run-id')));
      return found.length === 2 ? found : undefined;
    }, 'both gated runs in the list', 20_000, 300);
    expect(ids).toEqual([runs.revise, runs.approve]);
    const row = page.locator(`tr[data-run-id="${runs.approve}"]`);
    await expect(row.locator('td').nth(1).textContent()).resolves.toBe('awaiting_review');
    await expect(row.locator('a.temporal').getAttribute('href')).resolves.toBe(`${TEMPORAL_UI}/namespaces/default/workflows/${runs.approve}`);
    await shot(page, '1-runs-awaiting-review');

    // A filter lab list refuses is refused here with lab list's words.
    const bad = await page.goto(`${consoleUrl}/?status=bogus`);
    expect(bad?.status()).toBe(400);
    await expect(page.locator('.notice.error').textContent()).resolves.toMatch(/^--status must be one of running, awaiting_review, .*, got "bogus"$/);
    await page.close();
  });

  it('opens a gated run, shows its idea as text, refuses a decision without the token, then approves it with the token', async () => {
    const page = await context.newPage();
    await page.goto(`${consoleUrl}/?status=awaiting_review`);
    await page.click(`tr[data-run-id="${runs.approve}"] a[href^="/runs/"]`);
    expect(new URL(page.url()).pathname).toBe(`/runs/${runs.approve}`);
    await expect(page.locator('.gate h3').first().textContent()).resolves.toBe('Waiting for review: idea');
    await expect(page.locator('.gate .doc h1').textContent()).resolves.toBe(IDEA_TITLE);
    expect(await page.evaluate(() => (window as unknown as { __labXss?: number }).__labXss)).toBeUndefined();
    await expect(page.locator('tr[data-stage="idea"] .stage-status').textContent()).resolves.toBe('awaiting_review');
    await shot(page, '2-gate-idea');

    // No token: refused, and the run still waits at the same gate.
    await page.click('button[value="approve"]');
    await expect(page.locator('.notice.error').textContent()).resolves.toBe('decision refused: a token is needed (lab ui printed it when it started)');
    await page.fill('input[name="token"]', 'not-the-token');
    await page.click('button[value="approve"]');
    await expect(page.locator('.notice.error').textContent()).resolves.toBe('decision refused: that is not the token lab ui printed when it started');
    const direct = await fetch(`${consoleUrl}/runs/${runs.approve}/decide`, { method: 'POST', body: new URLSearchParams({ action: 'approve', stage: 'idea', revision: '0' }) });
    expect(direct.status).toBe(403);
    expect((await progress(runs.approve)).pendingGate).toMatchObject({ stage: 'idea', revisionsUsed: 0 });

    await page.fill('input[name="token"]', token);
    await page.click('button[value="approve"]');
    // The line `lab approve` prints.
    await expect(page.locator('.notice.ok').textContent()).resolves.toBe('approve idea: continuing with literature');
    await waitFor(async () => (await progress(runs.approve)).pendingGate === undefined || undefined, 'the approved run to leave its gate');
    // The run's history records who decided (the name lab ui was started with, never the token) and when.
    const decision = page.locator('table.decisions tr.decision');
    await expect(decision.count()).resolves.toBe(1);
    await expect(decision.locator('td.action').textContent()).resolves.toBe('approve');
    await expect(decision.locator('td.by').textContent()).resolves.toBe(`${DECIDER} (lab ui)`);
    expect(await page.content()).not.toContain(token);
    await shot(page, '3-approved');
    await s.env.client.workflow.getHandle(runs.approve).terminate('ui test: done with it');
    await page.close();
  });

  it('revises another run with feedback (the token now in a cookie), sees its gate move, and a stale decision gets the CLI\'s line', async () => {
    const stale = await context.newPage();
    await stale.goto(`${consoleUrl}/runs/${runs.revise}`);
    // A second reviewer starts typing on the first version: the page stops reloading itself.
    await stale.fill('textarea[name="feedback"]', 'Looks fine to me.');

    const page = await context.newPage();
    await page.goto(`${consoleUrl}/runs/${runs.revise}`);
    expect(await page.locator('input[name="token"]').count()).toBe(0);
    await page.fill('textarea[name="feedback"]', FEEDBACK);
    await page.click('button[value="revise"]');
    await expect(page.locator('.notice.ok').textContent()).resolves.toBe('revise idea: re-running idea with your feedback (revision 1 of 3)');
    // While the run is open and nobody types, the page reloads itself every 10 s.
    await page.evaluate(() => ((window as unknown as { labBeforeReload?: boolean }).labBeforeReload = true));
    await page.clock.runFor(10_500);
    await waitFor(async () => (await page.evaluate(() => (window as unknown as { labBeforeReload?: boolean }).labBeforeReload)) === undefined || undefined, 'the page to reload itself');
    await waitFor(
      async () => {
        await page.reload();
        return (await page.locator('.gate h3').first().textContent()) === 'Waiting for review: idea, revision 1' || undefined;
      },
      'the page to show the gate at revision 1',
      60_000,
      500,
    );
    await expect(page.locator('.gate .doc').textContent()).resolves.toContain(REVISED_TITLE);
    await expect(page.locator('table.decisions tr.decision td.by').allTextContents()).resolves.toEqual([`${DECIDER} (lab ui)`]);
    await shot(page, '4-revised-gate-moved');

    await stale.click('button[value="approve"]');
    const line = await stale.locator('.notice.error').textContent();
    const cli = await runLab(['approve', runs.revise, '--stage', 'idea', '--revision', '0'], labEnv());
    expect(cli.code).toBe(1);
    expect(line).toBe(`approve refused: ${cli.stderr.trim().replace(/^lab approve: /, '')}`);
    expect(line).toContain('the gate you named (idea, revision 0) is not open; the open gate is idea, revision 1');
    await expect(stale.locator('textarea[name="feedback"]').inputValue()).resolves.toBe('Looks fine to me.');
    await shot(stale, '5-stale-decision-refused');
    // A decision from the CLI is recorded under LAB_REVIEWER, beside the console's.
    const rejected = await runLab(['reject', runs.revise, '--stage', 'idea', '--revision', '1'], { ...labEnv(), LAB_REVIEWER: 'Grace Hopper' });
    expect(rejected.stderr).toBe('');
    await page.reload();
    await expect(page.locator('table.decisions tr.decision td.by').allTextContents()).resolves.toEqual([`${DECIDER} (lab ui)`, 'Grace Hopper (lab reject)']);
    await expect(page.locator('table.decisions tr.decision td.action').allTextContents()).resolves.toEqual(['revise', 'reject']);
    await Promise.all([page.close(), stale.close()]);
  });

  it('shows a finished run: its stages with calls and tokens, and the paper\'s unsupported number marked with why', async () => {
    const result = await s.env.client.workflow.getHandle(runs.finished).result() as ResearchRunResult;
    expect(result.status).toBe('completed');
    const page = await context.newPage();
    await page.goto(`${consoleUrl}/runs/${runs.finished}`);
    await expect(page.locator('.run-status').textContent()).resolves.toBe('completed');
    for (const stage of ['idea', 'literature', 'proposal', 'experiment', 'paper']) {
      await expect(page.locator(`tr[data-stage="${stage}"] .stage-status`).textContent(), stage).resolves.toBe('done');
    }
    await expect(page.locator('tr[data-stage="idea"] td.num').nth(1).textContent()).resolves.toBe('1');
    const mark = page.locator('section.document[data-stage="paper"] mark');
    await expect(mark.textContent()).resolves.toBe('0.9912');
    await expect(mark.getAttribute('title')).resolves.toBe('in no measured file');
    await mark.scrollIntoViewIfNeeded();
    await shot(page, '6-paper-flagged-number');
    // The experiment's steps as a timeline, one entry per step of its transcript, commands with their exit code and time.
    const transcript = parseTranscript((await s.lab.store.readRunFile(runs.finished, 'experiment/transcript.jsonl'))!.toString('utf8'));
    expect(transcript.length).toBeGreaterThan(1);
    await expect(page.locator('ol.timeline li.step').count()).resolves.toBe(transcript.length);
    const ran = transcript.find((r) => r.action.action === 'run')!;
    const entry = page.locator(`ol.timeline li.step[data-step="${ran.step}"]`);
    await expect(entry.locator('.step-command').textContent()).resolves.toBe((ran.action as { command: string }).command);
    await expect(entry.locator('.step-exit').textContent()).resolves.toBe(`exit ${ran.observation.exitCode}`);
    await entry.scrollIntoViewIfNeeded();
    await shot(page, '6b-experiment-timeline');
    // The run in the Temporal UI (the dev server's own): its history lists the stage activities the console summarised.
    const temporal = await context.newPage();
    await temporal.goto(await page.locator('a.temporal').getAttribute('href') as string);
    await temporal.getByText('Event History').first().click();
    // Each stage is a runStage activity labelled with its stage; the experiment is a child workflow. The UI renders the events as they load.
    const expected = [...['idea', 'literature', 'proposal', 'paper'].map((stage) => `${stage} with ${model()}`), `experiment of ${runs.finished} with ${model()}`];
    const missing = async () => {
      const history = await temporal.locator('body').innerText();
      return history.includes('runStage') ? expected.filter((e) => !history.includes(e)) : expected;
    };
    await expect.poll(missing, { timeout: 30_000, interval: 500 }).toEqual([]);
    await shot(temporal, '7-temporal-ui-history');
    await temporal.close();
    // Its experiment is a workflow of its own: the console says what `lab status` says about it.
    await page.goto(`${consoleUrl}/runs/${runs.finished}-experiment`);
    await expect(page.locator('pre.other-workflow').textContent()).resolves.toMatch(new RegExp(`^${runs.finished}-experiment is a experimentRun workflow \\(completed\\), not a research run: see lab status`));
    await page.close();
  });

  it('a read-only console shows the decision commands and refuses a decision; a taken port or a bad flag is one line, exit 2; SIGTERM stops it', async () => {
    const port = await freePort();
    const readOnly = await startConsole(['--port', String(port)]);
    const gated = await startResearchRun(`ui-readonly-${Date.now()}`, ['idea']);
    await waitForGate(gated, 0);
    const html = await (await fetch(`${readOnly.url}/runs/${gated}`)).text();
    expect(html).toContain(`lab approve ${gated} --stage idea | lab revise ${gated} --stage idea --feedback &quot;...&quot; | lab reject ${gated} --stage idea`);
    expect(html).not.toContain('<form method="post"');
    const refused = await fetch(`${readOnly.url}/runs/${gated}/decide`, { method: 'POST', body: new URLSearchParams({ action: 'approve', stage: 'idea', revision: '0', token }) });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('decision refused: this console is read-only (start it with lab ui --allow-decisions)');

    // The console started with decisions: a revise without feedback is refused in words; a repeated filter counts with its last value, as lab list's does.
    const blank = await fetch(`${consoleUrl}/runs/${gated}/decide`, { method: 'POST', body: new URLSearchParams({ action: 'revise', stage: 'idea', revision: '0', feedback: '  ', token }) });
    expect(blank.status).toBe(400);
    expect(await blank.text()).toContain('revise needs feedback: say what to change in the feedback box');
    const repeated = await fetch(`${consoleUrl}/?status=bogus&status=completed`);
    expect(repeated.status).toBe(200);
    const control = await fetch(`${consoleUrl}/runs/a%00b`);
    expect(control.status).toBe(400);
    expect(await control.text()).toContain('&quot;a\\u0000b&quot; is not a run id');
    await s.env.client.workflow.getHandle(gated).terminate('ui test: done with it');

    const [taken, badPort] = await Promise.all([runLab(['ui', '--port', String(port)], labEnv()), runLab(['ui', '--port', 'http'], labEnv())]);
    expect(taken.code).toBe(2);
    expect(taken.stderr).toBe(`lab ui: port ${port} is in use (choose another with --port)\n`);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr.split('\n')[0]).toBe('lab ui: --port must be a whole number from 1 to 65535, got "http"');

    expect(await stopConsole(readOnly.child)).toBe(0);
    expect(readOnly.stderr()).toContain('lab ui: stopping (SIGTERM)');
  });

  it('a Temporal that stops answering is one line on every page, within seconds, and the console keeps serving', async () => {
    const deadPort = await freePort();
    const connection = await Connection.lazy({ address: `127.0.0.1:${deadPort}` });
    const unreachable = await startConsoleServer({
      client: new Client({ connection }),
      store: s.lab.store,
      host: '127.0.0.1',
      port: 0,
      temporalUnreachable: (detail) => `cannot reach Temporal at 127.0.0.1:${deadPort} (${detail})`,
    });
    try {
      for (const at of ['/', `/runs/${runs.finished}`, '/benchmarks']) {
        const t = Date.now();
        const r = await fetch(`${unreachable.url}${at}`);
        expect(r.status, at).toBe(503);
        expect(await r.text(), at).toContain(`cannot reach Temporal at 127.0.0.1:${deadPort}`);
        expect(Date.now() - t, at).toBeLessThan(15_000);
      }
      expect((await fetch(`${unreachable.url}/health`)).status).toBe(200);
    } finally {
      await unreachable.close();
      await connection.close();
    }
  }, 60_000);

  it('pages through 1,000 runs (the list page load time is printed: issue 16 asks under 1 s)', async () => {
    const many = 1000;
    const prefix = `ui-many-${Date.now()}`;
    const t0 = Date.now();
    for (let i = 0; i < many; i += 50) {
      // Runs on a queue no worker polls: listed as running, and nothing works on them.
      await Promise.all(
        Array.from({ length: Math.min(50, many - i) }, (_, j) =>
          s.env.client.workflow.start('researchRun', {
            taskQueue: 'nobody-polls-this',
            workflowId: `${prefix}-${i + j}`,
            args: [{}],
            typedSearchAttributes: [
              { key: LAB_TASK, value: 'many-runs' },
              { key: LAB_STATUS, value: 'running' },
            ],
          }),
        ),
      );
    }
    const startMs = Date.now() - t0;
    await waitFor(async () => {
      const html = await (await fetch(`${consoleUrl}/?task=many-runs`)).text();
      return html.includes(`${many} runs, page 1 of ${Math.ceil(many / 50)}`) || undefined;
    }, `the list to show all ${many} runs`, 30_000, 500);
    // The whole list (these and the other tests' runs): read from Temporal, sorted, the first page rendered.
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      const r = await fetch(`${consoleUrl}/`);
      await r.text();
      times.push(performance.now() - t);
    }
    const second = await (await fetch(`${consoleUrl}/?task=many-runs&page=2`)).text();
    expect(second).toContain(`data-run-id="${prefix}-`);
    expect(second).toContain('rel="prev"');
    console.log(`ui.test: the runs page with ${many.toLocaleString('en')}+ runs loads in ${times.map((t) => `${t.toFixed(0)} ms`).join(', ')} (started them in ${startMs} ms)`);
  });
});
