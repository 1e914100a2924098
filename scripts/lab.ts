/**
 * `lab`: the Durable Lab command line. Run `lab --help` or `lab <command> --help`.
 * Exit codes: 0 success, 1 failure, 2 bad usage or input (nothing was started).
 */
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ArtifactStore } from '../activities/artifacts.js';
import { artifactRoot, labHome } from '../activities/config.js';
import { resolveAutoModel } from '../common/modelSpec.js';
import { listTasks } from '../activities/tasks.js';
import type { Budget, ReviewDecision } from '../common/schemas.js';
import { LAB_MODEL, LAB_STATUS, LAB_TASK } from '../common/searchAttributes.js';
import { parseStageList } from '../common/stages.js';
import { CliError, connectClient } from './lib/client.js';
import { spawnDevServer, waitForPort, portOpen } from './lib/devServer.js';
import { followRun } from './lib/follow.js';
import { createGatePrompter } from './lib/gatePrompt.js';
import { formatClosedRun, formatProgress } from './lib/format.js';
import { planRun, resumeRun, sendReview, startRun, storeTask, viewRun } from './lib/runs.js';

interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  positionals: number;
  run: (args: { values: Record<string, string | boolean | undefined>; positionals: string[] }) => Promise<number | void>;
}

const json = { type: 'boolean' as const };
const uiBase = () => process.env.LAB_UI_URL ?? 'http://localhost:8233';
const uiLink = (runId: string) => `${uiBase()}/namespaces/${process.env.TEMPORAL_NAMESPACE ?? 'default'}/workflows/${encodeURIComponent(runId)}`;
const print = (text: string) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
const printJson = (value: unknown) => print(JSON.stringify(value, null, 2));

function positiveNumber(value: string | boolean | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (typeof value !== 'string' || !Number.isFinite(n) || n <= 0) throw new CliError(`${flag} must be a positive number, got "${value}"`, 2);
  return n;
}

function budgetFrom(values: Record<string, string | boolean | undefined>): Budget | undefined {
  const usd = positiveNumber(values['budget-usd'], '--budget-usd');
  const tokens = positiveNumber(values['max-tokens'], '--max-tokens');
  if (tokens !== undefined && !Number.isInteger(tokens)) throw new CliError('--max-tokens must be a whole number', 2);
  return usd === undefined && tokens === undefined ? undefined : { usd, tokens };
}

/** Durations like 90, 90s, 30m, 2h, 1d → seconds. */
function parseDuration(value: string | boolean | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const m = typeof value === 'string' ? /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(value.trim()) : null;
  if (!m) throw new CliError(`${flag} must be a duration like 90s, 30m, 2h or 1d, got "${value}"`, 2);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
}

function runIdArg(positionals: string[], usage: string): string {
  const id = positionals[0];
  if (!id) throw new CliError(`missing run id\nusage: ${usage}`, 2);
  return id;
}

async function withClient<T>(fn: (c: Awaited<ReturnType<typeof connectClient>>) => Promise<T>): Promise<T> {
  const c = await connectClient();
  try {
    return await fn(c);
  } finally {
    await c.close();
  }
}

async function review(runId: string, decision: ReviewDecision, asJson: boolean): Promise<void> {
  const outcome = await withClient(({ client }) => sendReview(client, runId, decision));
  if (asJson) printJson({ runId, ...outcome });
  else print(`${outcome.action} ${outcome.stage}: ${outcome.next}`);
}

/** `approve` and `reject`: a run id and optional feedback. (`revise` requires feedback, so it has its own.) */
function gateCommand(action: 'approve' | 'reject', summary: string): Command {
  return {
    summary,
    usage: `lab ${action} <runId> [--feedback TEXT] [--json]`,
    options: { feedback: { type: 'string' }, json },
    positionals: 1,
    async run({ values, positionals }) {
      await review(runIdArg(positionals, this.usage), { action, feedback: values.feedback as string | undefined }, Boolean(values.json));
    },
  };
}

const COMMANDS: Record<string, Command> = {
  server: {
    summary: 'start the local Temporal dev server (SQLite under .lab/, UI on 8233, search attributes registered)',
    usage: 'lab server [--port 7233] [--ui-port 8233] [--db .lab/temporal.db]',
    options: { port: { type: 'string', default: '7233' }, 'ui-port': { type: 'string', default: '8233' }, db: { type: 'string' } },
    positionals: 0,
    async run({ values }) {
      const port = positiveNumber(values.port, '--port')!;
      const uiPort = positiveNumber(values['ui-port'], '--ui-port')!;
      if (await portOpen(port)) throw new CliError(`port ${port} is already in use (is a Temporal server already running?)`);
      const dbFile = (values.db as string | undefined) ?? path.join(labHome(), 'temporal.db');
      const child = spawnDevServer({ port, uiPort, dbFile });
      await waitForPort(port, 60_000, child);
      print(`Temporal dev server on localhost:${port}, UI http://localhost:${uiPort}, data in ${dbFile}\n(Ctrl-C stops it)`);
      const stop = () => child.kill('SIGTERM');
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      return new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 0)));
    },
  },
  worker: {
    summary: 'start workers for the research and llm task queues (tuned by LAB_* env, see README)',
    usage: 'lab worker [--queues research,llm]',
    options: { queues: { type: 'string', default: process.env.LAB_WORKER_QUEUES ?? 'research,llm' } },
    positionals: 0,
    async run({ values }) {
      // Loaded lazily: the worker package (native bridge, bundler) is slow to import.
      const { runWorkerProcess } = await import('../workers/main.js');
      await runWorkerProcess(values.queues as string);
    },
  },
  run: {
    summary: 'start a research run on a task folder or task name',
    usage:
      'lab run <task-folder|task-name> [--model auto] [--reasoning-effort low|medium|high] [--gate idea,proposal] [--gate-timeout 2h] [--on-timeout approve|reject]\n' +
      '        [--max-revisions 3] [--budget-usd N] [--max-tokens N] [--id RUN_ID] [--detach] [--json]',
    options: {
      model: { type: 'string', default: 'auto' },
      'reasoning-effort': { type: 'string' },
      gate: { type: 'string' },
      'gate-timeout': { type: 'string' },
      'on-timeout': { type: 'string' },
      'max-revisions': { type: 'string' },
      'budget-usd': { type: 'string' },
      'max-tokens': { type: 'string' },
      id: { type: 'string' },
      detach: { type: 'boolean' },
      interactive: { type: 'boolean' },
      json,
    },
    positionals: 1,
    async run({ values, positionals }) {
      const taskSpec = positionals[0];
      if (!taskSpec) throw new CliError('missing task: lab run <task-folder|task-name> (see `lab tasks`)', 2);
      const model = values.model === 'auto' ? resolveAutoModel() : (values.model as string);
      let stages;
      try {
        stages = values.gate ? parseStageList(values.gate as string) : [];
      } catch (err) {
        throw new CliError(`--gate: ${(err as Error).message}`, 2);
      }
      const effort = values['reasoning-effort'];
      if (effort !== undefined && effort !== 'low' && effort !== 'medium' && effort !== 'high') {
        throw new CliError('--reasoning-effort must be low, medium or high', 2);
      }
      const onTimeout = values['on-timeout'];
      if (onTimeout !== undefined && onTimeout !== 'approve' && onTimeout !== 'reject') {
        throw new CliError('--on-timeout must be approve or reject', 2);
      }
      const maxRevisions = values['max-revisions'] === undefined ? undefined : Number(values['max-revisions']);
      if (maxRevisions !== undefined && (!Number.isInteger(maxRevisions) || maxRevisions < 0)) {
        throw new CliError('--max-revisions must be a whole number ≥ 0', 2);
      }
      const store = new ArtifactStore(artifactRoot());
      // Validate everything before connecting, so bad input is reported as such and never starts anything.
      const plan = await planRun({
        task: taskSpec,
        model,
        reasoningEffort: effort,
        workflowId: values.id as string | undefined,
        gates: {
          stages,
          ...(values['gate-timeout'] ? { timeoutSeconds: parseDuration(values['gate-timeout'], '--gate-timeout') } : {}),
          ...(onTimeout ? { onTimeout } : {}),
          ...(maxRevisions !== undefined ? { maxRevisions } : {}),
        },
        budget: budgetFrom(values),
      });
      return withClient(async ({ client }) => {
        const { workflowId, input } = await storeTask(plan, store);
        await startRun(client, workflowId, input);
        if (values.json && values.detach) {
          printJson({ runId: workflowId, task: input.task.name, model, ui: uiLink(workflowId) });
          return 0;
        }
        if (!values.json) {
          print(`started run ${workflowId}\n  task   ${input.task.name}\n  model  ${model}${model === 'embedded' ? ' (embedded model: small and weak; set a provider key for real research)' : ''}`);
          print(`  UI     ${uiLink(workflowId)}\n  files  ${store.runFolder(workflowId)}`);
        }
        if (values.detach) {
          print(`follow it with: lab status ${workflowId}`);
          return 0;
        }
        const interactive = !values.json && (values.interactive || (process.stdin.isTTY && process.stdout.isTTY));
        const prompter = interactive ? createGatePrompter(process.stdin, process.stdout, store.root) : undefined;
        const view = await followRun(client, workflowId, {
          artifactRoot: store.root,
          write: values.json ? () => {} : undefined,
          onGate: prompter ? (gate) => prompter.decide(client, workflowId, gate) : undefined,
        }).finally(() => prompter?.close());
        if (values.json) printJson(view);
        else print(formatClosedRun(view, store.root));
        return view.execution === 'COMPLETED' && view.result?.status === 'completed' ? 0 : 1;
      });
    },
  },
  status: {
    summary: 'show a run’s progress: stages, timings, LLM calls, tokens, cost, pending gate (live until it ends)',
    usage: 'lab status <runId> [--once] [--json]',
    options: { once: { type: 'boolean' }, json },
    positionals: 1,
    async run({ values, positionals }) {
      const runId = runIdArg(positionals, this.usage);
      const root = artifactRoot();
      return withClient(async ({ client }) => {
        // A closed run's stage table needs a worker to answer the query; do not wait long for one.
        const view = await viewRun(client, runId, { queryTimeoutMs: 2000 });
        if (values.json) return void printJson(view);
        if (view.execution === 'RUNNING' && !values.once) {
          const final = await followRun(client, runId, { artifactRoot: root, live: process.stdout.isTTY });
          print(formatClosedRun(final, root));
          return;
        }
        if (view.progress) print(formatProgress(runId, view.progress, root, view.activeStage));
        else if (view.execution === 'RUNNING') print(`run ${runId} is running, but no worker answered; start one with \`lab worker\``);
        if (view.execution !== 'RUNNING') print(formatClosedRun(view, root));
      });
    },
  },
  list: {
    summary: 'list runs, newest first, filtered by status, task or model',
    usage: 'lab list [--status running|awaiting_review|completed|rejected|budget_exhausted|failed] [--task NAME] [--model SPEC] [--limit 20] [--json]',
    options: { status: { type: 'string' }, task: { type: 'string' }, model: { type: 'string' }, limit: { type: 'string', default: '20' }, json },
    positionals: 0,
    async run({ values }) {
      const limit = positiveNumber(values.limit, '--limit')!;
      const quote = (v: string) => `'${v.replace(/'/g, "\\'")}'`;
      const filters = [`WorkflowType = 'researchRun'`];
      if (values.status) filters.push(`${LAB_STATUS.name} = ${quote(values.status as string)}`);
      if (values.task) filters.push(`${LAB_TASK.name} = ${quote(values.task as string)}`);
      if (values.model) filters.push(`${LAB_MODEL.name} = ${quote(values.model as string)}`);
      return withClient(async ({ client }) => {
        const rows = [];
        for await (const w of client.workflow.list({ query: filters.join(' AND '), pageSize: Math.min(limit, 100) })) {
          rows.push({
            runId: w.workflowId,
            status: w.typedSearchAttributes.get(LAB_STATUS) ?? w.status.name.toLowerCase(),
            execution: w.status.name,
            task: w.typedSearchAttributes.get(LAB_TASK),
            model: w.typedSearchAttributes.get(LAB_MODEL),
            started: w.startTime.toISOString(),
          });
          if (rows.length >= limit) break;
        }
        if (values.json) return void printJson(rows);
        if (!rows.length) return void print('no runs match');
        for (const r of rows) print(`${r.runId.padEnd(40)} ${String(r.status).padEnd(17)} ${String(r.task).padEnd(28)} ${String(r.model).padEnd(28)} ${r.started}`);
      });
    },
  },
  approve: gateCommand('approve', 'approve the stage waiting for review; the run continues'),
  revise: {
    summary: 'send the stage waiting for review back with feedback; it runs again',
    usage: 'lab revise <runId> --feedback TEXT [--json]',
    options: { feedback: { type: 'string' }, json },
    positionals: 1,
    async run({ values, positionals }) {
      const runId = runIdArg(positionals, this.usage);
      const feedback = (values.feedback as string | undefined)?.trim();
      if (!feedback) throw new CliError('revise needs --feedback "what to change"', 2);
      await review(runId, { action: 'revise', feedback }, Boolean(values.json));
    },
  },
  reject: gateCommand('reject', 'reject the stage waiting for review; the run ends as rejected, artifacts kept'),
  resume: {
    summary: 'start a new run from a failed, cancelled, terminated or out-of-budget run, reusing its finished stages',
    usage: 'lab resume <runId> [--budget-usd N] [--max-tokens N] [--model SPEC] [--detach] [--json]',
    options: { 'budget-usd': { type: 'string' }, 'max-tokens': { type: 'string' }, model: { type: 'string' }, detach: { type: 'boolean' }, json },
    positionals: 1,
    async run({ values, positionals }) {
      const runId = runIdArg(positionals, this.usage);
      const budget = budgetFrom(values);
      return withClient(async ({ client }) => {
        const resumed = await resumeRun(client, runId, { budget, model: values.model as string | undefined });
        if (values.json && values.detach) return void printJson({ runId: resumed.workflowId, resumedFrom: runId, reused: resumed.reused });
        print(`resumed ${runId} as ${resumed.workflowId}; reusing ${resumed.reused.join(', ') || 'no stages'}\n  UI ${uiLink(resumed.workflowId)}`);
        if (values.detach) return 0;
        const view = await followRun(client, resumed.workflowId, { artifactRoot: artifactRoot() });
        print(formatClosedRun(view, artifactRoot()));
        return view.result?.status === 'completed' ? 0 : 1;
      });
    },
  },
  show: {
    summary: 'show a run’s artifact paths and print its final paper',
    usage: 'lab show <runId> [--json]',
    options: { json },
    positionals: 1,
    async run({ values, positionals }) {
      const runId = runIdArg(positionals, this.usage);
      const store = new ArtifactStore(artifactRoot());
      return withClient(async ({ client }) => {
        const view = await viewRun(client, runId);
        const artifacts = view.result?.artifacts ?? Object.fromEntries(Object.entries(view.memo.completed).map(([k, v]) => [k, v!.artifact]));
        const paths = Object.fromEntries(Object.entries(artifacts).map(([stage, ref]) => [stage, store.localPath(ref!)]));
        if (values.json) return void printJson({ runId, status: view.status, folder: store.runFolder(runId), artifacts: paths });
        print(formatClosedRun(view, store.root));
        print(`folder: ${store.runFolder(runId)}`);
        if (artifacts.paper) print(`\n${'='.repeat(30)} paper.md ${'='.repeat(30)}\n${await store.getText(artifacts.paper)}`);
        else print('(no paper yet)');
      });
    },
  },
  tasks: {
    summary: 'list the tasks that `lab run` finds by name',
    usage: 'lab tasks [--json]',
    options: { json },
    positionals: 0,
    async run({ values }) {
      const tasks = await listTasks();
      if (values.json) return void printJson(tasks);
      for (const t of tasks) print(`${t.name.padEnd(36)} ${t.folder}`);
    },
  },
};

function helpText(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'lab: durable research runs on Temporal',
    '',
    'usage: lab <command> [options]   (lab <command> --help for its options)',
    '',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Environment: TEMPORAL_ADDRESS (localhost:7233), TEMPORAL_NAMESPACE (default), TEMPORAL_API_KEY, LAB_HOME (.lab),',
    'OPENAI_API_KEY / ANTHROPIC_API_KEY / OPENROUTER_API_KEY (with none set, runs use the embedded model).',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    print(helpText());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`lab: unknown command "${name}" (see lab --help)\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    print(`${command.summary}\n\nusage: ${command.usage}`);
    return 0;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({ args: rest, options: command.options, allowPositionals: true, strict: true });
    } catch (err) {
      throw new CliError(`${(err as Error).message}\nusage: ${command.usage}`, 2);
    }
    if (parsed.positionals.length > command.positionals) {
      throw new CliError(`unexpected argument "${parsed.positionals[command.positionals]}"\nusage: ${command.usage}`, 2);
    }
    const code = await command.run.call(command, parsed as never);
    return typeof code === 'number' ? code : 0;
  } catch (err) {
    const code = err instanceof CliError ? err.exitCode : 1;
    process.stderr.write(`lab ${name}: ${(err as Error).message}\n`);
    return code;
  }
}

if (process.argv[1] && /lab\.(ts|mjs|js)$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
