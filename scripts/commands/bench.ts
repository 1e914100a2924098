/**
 * `lab bench`: a benchmark sweep (task set × agents, judged by one or more judges) as one durable
 * workflow with children; `lab bench status|retry|resume|cancel <benchId>` to follow, repair and stop it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import cliProgress from 'cli-progress';
import { z } from 'zod';
import { unenforceableBudget } from '../../activities/llm/prices.js';
import { selectCompetitions } from '../../activities/bench/competitions.js';
import { selectTasks } from '../../activities/taskSets.js';
import { TaskError, type LoadedTask } from '../../activities/tasks.js';
import { storeTaskTexts } from '../../activities/bench/taskTexts.js';
import { defaultReviews, type BenchmarkInput, type BenchMode } from '../../common/benchmark.js';
import { isEmbeddedJudge, uncalibratedJudgeRefusal } from '../../common/judgeCalibration.js';
import { AUTO_MODEL, isAutoModel, parseModelSpec } from '../../common/modelSpec.js';
import { REVIEW_KINDS, type ReviewKind } from '../../common/reviews.js';
import { STAGES, type StageName } from '../../common/stages.js';
import { benchExists, benchReportState, itemKeyProblem, restartBench, startBench, timeLeft, viewBench, type BenchView } from '../lib/bench.js';
import { CliError } from '../lib/client.js';
import { booleanFlag, defineCommand, flag, repeatedFlag } from '../lib/command.js';
import { EXIT } from '../lib/exitCodes.js';
import { exitInterrupted, onInterrupt } from '../lib/interrupt.js';
import { list, modelSpec, newRunId, nonEmptyText, runIdToFind, wholeNumber } from '../lib/options.js';
import { print, printJson, withClient } from '../lib/output.js';
import { cliStore, uploadForWorkers } from '../lib/store.js';
import { runLink } from '../lib/uiLink.js';
import { budgetOf, budgetOptions } from './run.js';
import { reportStopped, stopWorkflow } from './cancel.js';

const ACTIONS = ['start', 'status', 'retry', 'resume', 'cancel'] as const;


/** `--stages idea` or `idea,proposal` (stepwise, as the paper's 201-task tables), or `all` (end-to-end). */
function benchStages(value: string): { mode: BenchMode; stages: StageName[] } {
  if (value === 'all') return { mode: 'end-to-end', stages: [...STAGES] };
  const names = list('--stages')(value);
  if (names.length === 1 && names[0] === 'idea') return { mode: 'stepwise', stages: ['idea'] };
  if (names.every((n) => ['idea', 'literature', 'proposal'].includes(n)) && names.includes('proposal')) {
    // A proposal reads the literature review, as in MLR-Bench's pipeline.
    return { mode: 'stepwise', stages: ['idea', 'literature', 'proposal'] };
  }
  throw new Error(`--stages must be idea, idea,proposal or all, got "${value}"`);
}

function reviewKinds(value: string): ReviewKind[] {
  const names = list('--reviews')(value);
  const unknown = names.find((n) => !(REVIEW_KINDS as readonly string[]).includes(n));
  if (unknown) throw new Error(`--reviews: unknown review kind "${unknown}" (kinds: ${REVIEW_KINDS.join(', ')})`);
  return names as ReviewKind[];
}

const itemKey = z.array(z.string()).optional().transform((values, ctx) => {
  for (const v of values ?? []) {
    const problem = itemKeyProblem(v);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
  }
  return values;
});

const schema = z
  .object({
    action: z.string().optional(),
    benchId: z.string().optional(),
    tasks: flag(nonEmptyText('--tasks')),
    // `auto` stays `auto`: the benchmark's worker chooses from its own keys.
    agent: repeatedFlag('--agent', modelSpec('--agent')),
    judge: repeatedFlag('--judge', modelSpec('--judge')),
    stages: flag(benchStages),
    reviews: flag(reviewKinds),
    'judge-only': booleanFlag,
    'allow-uncalibrated-judge': booleanFlag,
    competition: booleanFlag,
    runs: flag(wholeNumber('--runs', 1, 20)),
    outputs: flag((v) => {
      const folder = path.resolve(v);
      if (!existsSync(folder)) throw new Error(`--outputs: folder not found: ${v}`);
      return folder;
    }),
    concurrency: flag(wholeNumber('--concurrency', 1, 256)),
    ...budgetOptions,
    id: flag(newRunId('--id')),
    item: itemKey,
    follow: booleanFlag,
    terminate: booleanFlag,
    detach: booleanFlag,
    json: booleanFlag,
  })
  .transform((a, ctx) => {
    // `lab bench <benchId>` alone would be ambiguous with an action; the first word is an action or absent.
    const action = (a.action ?? 'start') as (typeof ACTIONS)[number];
    if (!(ACTIONS as readonly string[]).includes(action)) {
      ctx.addIssue({ code: 'custom', message: `unknown bench action "${a.action}" (actions: ${ACTIONS.join(', ')}; start is the default)` });
      return z.NEVER;
    }
    if (action === 'start') {
      if (a.benchId) ctx.addIssue({ code: 'custom', message: `unexpected argument "${a.benchId}" (to start a benchmark use options only; --id names it)` });
      if (!a.tasks) ctx.addIssue({ code: 'custom', message: 'missing --tasks <names|globs|venue:iclr|year:2025> (see lab tasks list)' });
      if (!a['judge-only'] && !a.agent?.length) ctx.addIssue({ code: 'custom', message: 'give at least one --agent MODEL (or --judge-only --outputs <folder>)' });
      if (a['judge-only'] && a.agent?.length) ctx.addIssue({ code: 'custom', message: '--judge-only judges existing outputs: --agent does not apply' });
      if (a['judge-only'] && !a.outputs) ctx.addIssue({ code: 'custom', message: '--judge-only needs --outputs <folder>' });
      if (!a['judge-only'] && a.outputs) ctx.addIssue({ code: 'custom', message: '--outputs applies to --judge-only' });
      if (a.item?.length) ctx.addIssue({ code: 'custom', message: '--item applies to `lab bench retry`' });
      if (a.competition && (a['judge-only'] || a.stages)) ctx.addIssue({ code: 'custom', message: `--competition runs competition tasks: --${a['judge-only'] ? 'judge-only' : 'stages'} does not apply` });
      if (a.runs !== undefined && !a.competition) ctx.addIssue({ code: 'custom', message: '--runs applies to --competition (attempts per task and agent)' });
    } else {
      if (!a.benchId) ctx.addIssue({ code: 'custom', message: `missing benchmark id: lab bench ${action} <benchId>` });
      const startOnly = (['tasks', 'stages', 'reviews', 'outputs', 'id', 'runs'] as const).find((k) => a[k] !== undefined);
      if (startOnly || a.agent?.length || a.judge?.length || a['judge-only'] || a['allow-uncalibrated-judge']) {
        const which = startOnly ?? (a.agent?.length ? 'agent' : a.judge?.length ? 'judge' : a['judge-only'] ? 'judge-only' : 'allow-uncalibrated-judge');
        ctx.addIssue({ code: 'custom', message: `--${which} applies when starting a benchmark, not to ${action}` });
      }
      if (a.item?.length && action !== 'retry') ctx.addIssue({ code: 'custom', message: '--item applies to `lab bench retry`' });
    }
    if (a.terminate && action !== 'cancel') ctx.addIssue({ code: 'custom', message: '--terminate applies to `lab bench cancel`' });
    if (a.benchId) {
      try {
        runIdToFind(a.benchId);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
      }
    }
    return { ...a, action };
  });

export const benchCommand = defineCommand({
  summary: 'run a benchmark: a task set × agent models, reviewed by judges (also: status, retry, resume, cancel)',
  usage:
    'lab bench --tasks <names|globs|venue:V|year:Y> --agent MODEL [--agent ...] [--judge MODEL ...] [--stages idea|idea,proposal|all]\n' +
    '          [--reviews idea,proposal] [--concurrency 4] [--budget-usd N] [--max-tokens N] [--id BENCH_ID] [--allow-uncalibrated-judge] [--detach] [--json]\n' +
    '       lab bench --judge-only --outputs <folder> --tasks <...> [--judge MODEL ...]   (re-judge existing outputs, e.g. MLR-Bench\'s published ones)\n' +
    '       lab bench --competition --tasks <competitions|all> --agent MODEL [--runs 3] [--judge MODEL ...]   (objective scores + MLRC rubric reviews)\n' +
    '       lab bench status <benchId> [--follow] [--json]\n' +
    '       lab bench retry <benchId> [--item <task>/<agent> ...]   (run the failed items again; finished ones are kept)\n' +
    '       lab bench resume <benchId>   (start a stopped benchmark again; finished items are kept)\n' +
    '       lab bench cancel <benchId> [--terminate]   (stop it and its items; exit 1 if unknown or already ended; lab bench resume continues)\n\n' +
    '  --tasks SPEC      comma-separated names, globs (iclr2025_*), all, venue:iclr, year:2025 (+ joins filters), or a folder\n' +
    '                    (with --competition: competition names or globs, see lab compete --list)\n' +
    '  --agent MODEL     an agent model spec; repeat for several (each task × agent is one item)\n' +
    '  --judge MODEL     a judge model spec; repeat for several (default: auto)\n' +
    '  --allow-uncalibrated-judge   let an embedded judge (embedded[:file]) review: no model that small judges meaningfully, so\n' +
    '                    it is refused without this flag (exit 2); reviews by an embedded judge (auto included) say not calibrated\n' +
    '  --stages          idea, idea,proposal (default; the literature review runs too) or all (end-to-end)\n' +
    '  --reviews LIST    review kinds per item (default: idea,proposal; end_to_end for all; mlrc for --competition)\n' +
    '  --runs N          --competition only: attempts per task and agent (the report gives the best and mean ± SE)\n' +
    '  --concurrency N   items in flight at once (default 4)\n' +
    '  --budget-usd, --max-tokens   the whole benchmark\'s budget; items get a share of what is left, the rest are skipped\n' +
    '  --item T/AGENT    retry: only this item (repeatable)\n' +
    'Exit 0 every item done, 3 an item failed (lab bench retry), 4 items skipped for budget (lab bench resume).',
  options: {
    tasks: { type: 'string' },
    agent: { type: 'string', multiple: true },
    judge: { type: 'string', multiple: true },
    stages: { type: 'string' },
    reviews: { type: 'string' },
    'judge-only': { type: 'boolean' },
    'allow-uncalibrated-judge': { type: 'boolean' },
    competition: { type: 'boolean' },
    runs: { type: 'string' },
    outputs: { type: 'string' },
    concurrency: { type: 'string' },
    'budget-usd': { type: 'string' },
    'max-tokens': { type: 'string' },
    id: { type: 'string' },
    item: { type: 'string', multiple: true },
    follow: { type: 'boolean' },
    terminate: { type: 'boolean' },
    detach: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: ['action', 'benchId'],
  schema,
  async run(a) {
    if (a.action === 'cancel') {
      // Cancelling the benchmark cancels its items' runs and reviews with it (children wait for their cancellation).
      return withClient(async ({ client }) => reportStopped(await stopWorkflow(client, a.benchId!, { what: 'benchmark', terminate: a.terminate }), { what: 'benchmark', json: a.json }));
    }
    if (a.action === 'status') return withClient(async ({ client }) => followOrPrint(client, a.benchId!, { follow: a.follow, json: a.json }));
    if (a.action === 'retry' || a.action === 'resume') {
      return withClient(async ({ client }) => {
        const { line } = await restartBench(client, a.benchId!, a.action as 'retry' | 'resume', { items: a.item, concurrency: a.concurrency });
        if (!a.json) print(line);
        return a.detach ? EXIT.ok : followOrPrint(client, a.benchId!, { follow: true, json: a.json });
      });
    }

    // start
    const judges = a.judge?.length ? a.judge : [AUTO_MODEL];
    // `auto` is chosen in the benchmark, on a worker: if it picks the embedded model, the reviews say they are not calibrated.
    const embedded = judges.find(isEmbeddedJudge);
    if (embedded && !a['allow-uncalibrated-judge']) throw new CliError(uncalibratedJudgeRefusal(`--judge ${embedded}`), 2);
    const budget = budgetOf(a);
    // `auto` is checked against its price where it is chosen, in the benchmark.
    for (const model of [...(a.agent ?? []), ...judges].filter((m) => !isAutoModel(m))) {
      const unenforceable = unenforceableBudget(parseModelSpec(model), budget);
      if (unenforceable) throw new CliError(unenforceable, 2);
    }
    const { mode, stages }: { mode: BenchMode; stages: StageName[] } = a['judge-only']
      ? { mode: 'judge-only', stages: [] }
      : a.competition
        ? { mode: 'competition', stages: [] }
        : (a.stages ?? benchStages('idea,proposal'));
    const reviews = a.reviews ?? (mode === 'judge-only' ? ['idea', 'proposal'] as ReviewKind[] : defaultReviews(mode, stages));
    // Resolved here: research tasks go to the workers through the store (they may not have them);
    // competitions are resolved again on a worker, where their data and hidden splits live.
    let taskCount: number;
    let tasks: LoadedTask[] = [];
    try {
      if (mode === 'competition') taskCount = (await selectCompetitions(a.tasks!)).length;
      else taskCount = (tasks = await selectTasks(a.tasks!)).length;
    } catch (err) {
      if (err instanceof TaskError) throw new CliError(err.message, 2);
      throw err;
    }
    const benchId = a.id ?? `bench-${new Date().toISOString().slice(0, 10)}-${randomBytes(3).toString('hex')}`;
    const input: BenchmarkInput = {
      tasks: a.tasks!,
      mode,
      agents: a.agent ?? [],
      judges,
      stages: stages.length ? stages : undefined,
      reviews,
      ...(a.outputs ? { outputs: a.outputs } : {}),
      concurrency: a.concurrency ?? 4,
      ...(a.runs ? { runs: a.runs } : {}),
      budget: budget ?? {},
    };
    return withClient(async ({ client }) => {
      if (await benchExists(client, benchId)) throw new CliError(`a workflow with id "${benchId}" already exists; choose another --id (or lab bench resume ${benchId})`, 2);
      // The workers may be on other hosts: the outputs go to them through the store.
      if (a.outputs) input.outputsUpload = (await uploadForWorkers(cliStore(), benchId, a.outputs, a.json)).manifest;
      if (tasks.length) input.storedTasks = await storeTaskTexts(cliStore(), benchId, tasks);
      await startBench(client, benchId, input);
      if (!a.json) {
        print(`started benchmark ${benchId}`);
        print(`  tasks   ${a.tasks} (${taskCount} here)\n  mode    ${mode}${stages.length ? ` (${stages.join(', ')})` : ''}; reviews ${reviews.join(', ')}`);
        const shown = (models: string[]) => models.map((m) => (isAutoModel(m) ? 'auto (a worker chooses from its keys)' : isEmbeddedJudge(m) && judges.includes(m) ? `${m} (judging: not calibrated)` : m)).join(', ');
        print(`  agents  ${input.agents?.length ? shown(input.agents) : `outputs in ${a.outputs}`}\n  judges  ${shown(judges)}\n  UI      ${runLink(benchId)}`);
      }
      if (a.detach) {
        if (a.json) printJson({ benchId, ui: runLink(benchId) });
        else print(`follow it with: lab bench status ${benchId} --follow; tables with: lab report ${benchId}`);
        return EXIT.ok;
      }
      return followOrPrint(client, benchId, { follow: true, json: a.json });
    });
  },
});

async function followOrPrint(client: Parameters<typeof viewBench>[0], benchId: string, opts: { follow: boolean; json: boolean }): Promise<number> {
  let view = await viewBench(client, benchId);
  if (opts.follow && view.execution === 'RUNNING') {
    const stop = onInterrupt(() => {
      process.stderr.write(`\nstopped following; benchmark ${benchId} goes on in Temporal: lab bench status ${benchId} --follow\n`);
      exitInterrupted();
    });
    try {
      view = await followBench(client, benchId, !opts.json);
    } finally {
      stop();
    }
  }
  if (opts.json) printJson(view);
  else print(formatBench(view));
  return benchExitCode(view);
}

/** Live progress until the benchmark closes: a bar in a terminal, a line every 10 s otherwise. */
async function followBench(client: Parameters<typeof viewBench>[0], benchId: string, show: boolean): Promise<BenchView> {
  const bar = new cliProgress.SingleBar(
    {
      format: '{bar} {value}/{total} items | running {running} | failed {failed} | at a gate {gate} | ${cost} | left {left}',
      noTTYOutput: true,
      notTTYSchedule: 10_000,
      // The summary goes to stdout too, so piped output keeps its order.
      stream: process.stdout,
      etaBuffer: 50,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  for (;;) {
    const view = await viewBench(client, benchId);
    const p = view.progress;
    // Before the task set is resolved the total is unknown: no bar yet.
    if (show && p && p.total > 0) {
      const value = p.done + p.failed + p.skipped;
      const payload = { running: p.running, failed: p.failed, gate: view.atGate, cost: p.spent.costUsd.toFixed(2), left: timeLeft(p.startedAt, value, p.total) };
      if (!started) bar.start(p.total, value, payload);
      else {
        bar.setTotal(p.total);
        bar.update(value, payload);
      }
      started = true;
    }
    if (view.execution !== 'RUNNING') {
      if (started) {
        if (view.result) bar.update(view.result.done + view.result.failed + view.result.skipped, { running: 0, failed: view.result.failed, left: '0s', cost: view.result.spent.costUsd.toFixed(2) });
        bar.stop();
      }
      return view;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

function formatBench(view: BenchView): string {
  // A benchmark whose every item failed has not completed in any sense a reader cares about (as lab report says).
  const lines = [`benchmark ${view.benchId}: ${view.execution === 'COMPLETED' ? benchReportState(view).state : view.execution.toLowerCase()}`];
  const counts = view.result ?? view.progress;
  if (counts) {
    lines.push(`  items   ${counts.total} in all: ${counts.done} done, ${counts.failed} failed, ${counts.skipped} skipped${view.progress ? `, ${view.progress.running} running` : ''}${view.atGate ? `, ${view.atGate} at a gate` : ''}`);
    lines.push(`  spent   $${counts.spent.costUsd.toFixed(4)}, ${counts.spent.inputTokens + counts.spent.outputTokens} tokens in ${counts.spent.llmCalls} LLM calls (finished items)`);
    for (const f of counts.failures.slice(-20)) lines.push(`  failed  ${f.key} (${f.part}): ${f.reason}  [${f.workflowId}]`);
    if (counts.failed) lines.push(`  retry the failed items alone: lab bench retry ${view.benchId}  (or --item <task>/<agent>)`);
    if (counts.skipped) lines.push('  skipped items were not started because the budget was spent');
  }
  if (view.failure) lines.push(`  failure ${view.failure}`);
  if (view.execution === 'COMPLETED') lines.push(`  tables  lab report ${view.benchId}`);
  lines.push(`  UI      ${runLink(view.benchId)}`);
  return lines.join('\n');
}

function benchExitCode(view: BenchView): number {
  if (view.execution === 'RUNNING') return EXIT.ok;
  if (view.execution !== 'COMPLETED') return EXIT.runFailed;
  if (view.result?.failed) return EXIT.runFailed;
  if (view.result?.skipped) return EXIT.runStopped;
  return EXIT.ok;
}
