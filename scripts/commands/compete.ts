/** `lab compete`: an agent attempts a competition task (MLRC-Bench style), scored on the hidden test split. */
import { randomBytes } from 'node:crypto';
import Table from 'cli-table3';
import { z } from 'zod';
import { listCompetitionTasks, selectCompetitions } from '../../activities/bench/competitions.js';
import { unenforceableBudget } from '../../activities/llm/prices.js';
import { TaskError } from '../../activities/tasks.js';
import { summariseRuns, type CompetitionRunInput, type CompetitionRunResult } from '../../common/competition.js';
import { AUTO_MODEL, isAutoModel, parseModelSpec } from '../../common/modelSpec.js';
import { TASK_QUEUES } from '../../common/queues.js';
import { LAB_KIND, LAB_MODEL, LAB_STATUS, LAB_TASK } from '../../common/searchAttributes.js';
import { competitionRun } from '../../workflows/competitionRun.js';
import { CliError } from '../lib/client.js';
import { booleanFlag, defineCommand, flag } from '../lib/command.js';
import { EXIT } from '../lib/exitCodes.js';
import { exitInterrupted, onInterrupt } from '../lib/interrupt.js';
import { modelSpec, newRunId, nonEmptyText, oneOf, positiveNumber, wholeNumber } from '../lib/options.js';
import { runCompeteImport } from './competeImport.js';
import { runCompeteAudit, runCompeteScore } from './competeScore.js';
import { AUDIT_LIMIT_PERCENT, CHEATS } from '../../activities/competition/audit/index.js';
import { print, printJson, withClient } from '../lib/output.js';
import { rootMessage } from '../lib/runs.js';
import { runLink } from '../lib/uiLink.js';
import { budgetOf, budgetOptions } from './run.js';

/** Any finite number (published scores may be negative, e.g. negative MSE). */
function finiteNumber(option: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`${option} must be a number, got "${value}"`);
    return n;
  };
}

export const competeCommand = defineCommand({
  summary: 'attempt a competition task (objective metric, hidden test split, baseline and reference scores); --list shows them',
  usage:
    'lab compete <competition> [--model auto] [--runs 1] [--max-steps 30] [--experiment-minutes 60] [--budget-usd N] [--max-tokens N] [--detach] [--json]\n' +
    '       lab compete --list\n' +
    '       lab compete import <mlrc-task-folder> --metric NAME --direction higher|lower [--baseline N --human-top N] [--name N] [--dest DIR] [--force]\n' +
    '       lab compete score <competition> --methods DIR [--split test|dev] [--log FILE] [--json]\n' +
    '       lab compete audit <competition>|--all [--json]\n\n' +
    '  --runs N                 attempts (each a workflow); the summary gives the best and the mean ± SE of the improvement\n' +
    '  --max-steps, --experiment-minutes   bounds of the agent\'s step loop (default 30 steps, 60 minutes)\n' +
    '  --budget-usd, --max-tokens          the budget of each attempt\n' +
    'import: an MLRC-Bench task folder (its data prepared) into tasks/competitions-imported; --baseline and --human-top\n' +
    'are MLRC-Bench\'s published test scores (the reference is then the top human score, labelled as published);\n' +
    '--force replaces a task of the same name.\n' +
    'score: a methods/ folder you wrote (a package whose __init__.py exports build()), scored like an agent\'s run in a scratch\n' +
    'run (no agent, no Temporal server); --log FILE keeps the scoring log. Exit 0 scored, 3 failed or invalid, 2 bad input.\n' +
    `audit: generic cheats (${CHEATS.map((c) => c.name).join(', ')}) each scored once on the hidden test split;\n` +
    `a task fails when a valid cheat passes ${AUDIT_LIMIT_PERCENT}% of the baseline-to-reference gap. Exit 0 all pass, 3 a task fails.\n` +
    'See docs/competitions.md.',
  options: {
    list: { type: 'boolean' },
    model: { type: 'string' },
    runs: { type: 'string' },
    'max-steps': { type: 'string' },
    'experiment-minutes': { type: 'string' },
    'budget-usd': { type: 'string' },
    'max-tokens': { type: 'string' },
    detach: { type: 'boolean' },
    json: { type: 'boolean' },
    metric: { type: 'string' },
    direction: { type: 'string' },
    baseline: { type: 'string' },
    'human-top': { type: 'string' },
    name: { type: 'string' },
    dest: { type: 'string' },
    force: { type: 'boolean' },
    methods: { type: 'string' },
    split: { type: 'string' },
    log: { type: 'string' },
    all: { type: 'boolean' },
  },
  positionals: ['task', 'folder'],
  schema: z
    .object({
      task: z.string().optional(),
      list: booleanFlag,
      model: flag(modelSpec('--model')),
      runs: flag(wholeNumber('--runs', 1, 20)),
      'max-steps': flag(wholeNumber('--max-steps', 1, 500)),
      'experiment-minutes': flag(positiveNumber('--experiment-minutes')),
      ...budgetOptions,
      detach: booleanFlag,
      json: booleanFlag,
      folder: z.string().optional(),
      metric: flag(nonEmptyText('--metric')),
      direction: flag(oneOf('--direction', ['higher', 'lower'] as const)),
      baseline: flag(finiteNumber('--baseline')),
      'human-top': flag(finiteNumber('--human-top')),
      name: flag(newRunId('--name')),
      dest: z.string().optional(),
      force: booleanFlag,
      methods: flag(nonEmptyText('--methods')),
      split: flag(oneOf('--split', ['test', 'dev'] as const)),
      log: flag(nonEmptyText('--log')),
      all: booleanFlag,
    })
    .superRefine((a, ctx) => {
      const scoreOnly = (['methods', 'split', 'log'] as const).find((k) => a[k] !== undefined);
      if (a.task === 'score' || a.task === 'audit') {
        const other = (['model', 'runs', 'max-steps', 'experiment-minutes', 'budget-usd', 'max-tokens', 'metric', 'direction', 'baseline', 'human-top', 'name', 'dest'] as const).find((k) => a[k] !== undefined);
        const flagged = other ?? (a.list ? 'list' : a.detach ? 'detach' : a.force ? 'force' : undefined);
        if (flagged) ctx.addIssue({ code: 'custom', message: `--${flagged} does not apply to lab compete ${a.task}` });
      }
      if (a.task === 'score') {
        if (!a.folder) ctx.addIssue({ code: 'custom', message: 'missing competition: lab compete score <competition> --methods DIR' });
        if (!a.methods) ctx.addIssue({ code: 'custom', message: 'missing --methods DIR: the methods/ folder to score' });
        if (a.all) ctx.addIssue({ code: 'custom', message: '--all applies to lab compete audit' });
        return;
      }
      if (a.task === 'audit') {
        if (scoreOnly) ctx.addIssue({ code: 'custom', message: `--${scoreOnly} applies to lab compete score` });
        if (!a.folder && !a.all) ctx.addIssue({ code: 'custom', message: 'missing competition: lab compete audit <competition> (or --all)' });
        if (a.folder && a.all) ctx.addIssue({ code: 'custom', message: '--all takes no competition name' });
        return;
      }
      if (scoreOnly || a.all) ctx.addIssue({ code: 'custom', message: `--${scoreOnly ?? 'all'} applies to lab compete ${scoreOnly ? 'score' : 'audit'}` });
      if (a.task === 'import') {
        if (!a.folder) ctx.addIssue({ code: 'custom', message: 'missing folder: lab compete import <mlrc-task-folder> --metric NAME --direction higher|lower' });
        if (!a.metric || !a.direction) ctx.addIssue({ code: 'custom', message: 'MLRC-Bench keeps the metric in its paper: give --metric NAME and --direction higher|lower' });
        if ((a.baseline === undefined) !== (a['human-top'] === undefined)) ctx.addIssue({ code: 'custom', message: '--baseline and --human-top go together (the published scores)' });
        return;
      }
      if (a.folder) ctx.addIssue({ code: 'custom', message: `unexpected argument "${a.folder}"` });
      const importOnly = (['metric', 'direction', 'baseline', 'human-top', 'name', 'dest'] as const).find((k) => a[k] !== undefined);
      if (importOnly || a.force) ctx.addIssue({ code: 'custom', message: `--${importOnly ?? 'force'} applies to lab compete import` });
      if (!a.list && !a.task) ctx.addIssue({ code: 'custom', message: 'missing competition: lab compete <competition> (see lab compete --list)' });
      if (a.list && a.task) ctx.addIssue({ code: 'custom', message: '--list takes no competition name' });
    }),
  async run(a) {
    if (a.task === 'import') {
      return runCompeteImport({
        folder: a.folder!, metric: a.metric!, direction: a.direction!, baseline: a.baseline, humanTop: a['human-top'], name: a.name, dest: a.dest, force: a.force, json: a.json,
      });
    }
    if (a.task === 'score') return runCompeteScore({ task: a.folder!, methods: a.methods!, split: a.split ?? 'test', json: a.json, ...(a.log ? { log: a.log } : {}) });
    if (a.task === 'audit') return runCompeteAudit({ ...(a.folder ? { task: a.folder } : {}), all: a.all, json: a.json });
    if (a.list) {
      const tasks = await listCompetitionTasks();
      if (a.json) return void printJson(tasks);
      const table = new Table({ head: ['competition', 'metric', 'better', 'baseline', 'reference', 'title'], style: { head: [], border: [] } });
      const score = (x?: number) => (x === undefined ? '-' : x.toFixed(4));
      for (const t of tasks) table.push([t.name, t.metric, t.direction, score(t.baseline), score(t.reference), t.title]);
      return void print(
        `${table.toString()}\n${tasks.length} competitions (reference: a strong known method; baseline and reference are means over data draws, measured by npm run competitions:measure; each run is compared with the two scored on its own draw)`,
      );
    }
    let task: string;
    try {
      const [found, ...more] = await selectCompetitions(a.task!);
      if (more.length) throw new CliError(`"${a.task}" names ${more.length + 1} competitions; give one (or use lab bench --competition)`, 2);
      task = found.name;
    } catch (err) {
      if (err instanceof TaskError) throw new CliError(err.message, 2);
      throw err;
    }
    // `auto` is chosen by the worker that runs each attempt, from its keys (and the budget checked there, before any call).
    const model = a.model ?? AUTO_MODEL;
    const budget = budgetOf(a);
    const unenforceable = isAutoModel(model) ? undefined : unenforceableBudget(parseModelSpec(model), budget);
    if (unenforceable) throw new CliError(unenforceable, 2);
    const input: CompetitionRunInput = {
      task,
      model,
      ...(budget ? { budget } : {}),
      ...(a['max-steps'] !== undefined || a['experiment-minutes'] !== undefined
        ? { limits: { ...(a['max-steps'] !== undefined ? { maxSteps: a['max-steps'] } : {}), ...(a['experiment-minutes'] !== undefined ? { wallSeconds: a['experiment-minutes'] * 60 } : {}) } }
        : {}),
    };
    const base = `${task}-${randomBytes(3).toString('hex')}`;
    const runs = a.runs ?? 1;
    // The runs of one call share their data (one secret draw), so their best and mean compare.
    if (runs > 1) input.dataKey = base;
    return withClient(async ({ client }) => {
      const ids = Array.from({ length: runs }, (_, i) => (runs > 1 ? `${base}-r${i + 1}` : base));
      for (const id of ids) {
        await client.workflow.start(competitionRun, {
          taskQueue: TASK_QUEUES.research,
          workflowId: id,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          args: [input],
          typedSearchAttributes: [
            { key: LAB_KIND, value: 'competition' },
            { key: LAB_TASK, value: task },
            { key: LAB_MODEL, value: model },
            { key: LAB_STATUS, value: 'running' },
          ],
          staticSummary: `competition ${task} with ${model}`,
        });
      }
      if (!a.json) {
        print(`started ${runs} run(s) of competition ${task} with ${model}${isAutoModel(model) ? ' (a worker chooses the model from its keys when each run starts; lab status shows which)' : ''}`);
        for (const id of ids) print(`  ${id}  ${runLink(id)}`);
      }
      if (a.detach) {
        if (a.json) printJson({ runs: ids });
        return EXIT.ok;
      }
      const stop = onInterrupt(() => {
        process.stderr.write('\nstopped waiting; the runs go on in Temporal (see the links above)\n');
        exitInterrupted();
      });
      try {
        const outcomes = await Promise.all(
          ids.map(async (id) => {
            try {
              return { id, result: (await client.workflow.getHandle(id).result()) as CompetitionRunResult };
            } catch (err) {
              return { id, error: rootMessage(err) };
            }
          }),
        );
        if (a.json) printJson(outcomes);
        else print(formatOutcomes(outcomes));
        return outcomes.some((o) => o.error) ? EXIT.runFailed : EXIT.ok;
      } finally {
        stop();
      }
    });
  },
});

function formatOutcomes(outcomes: Array<{ id: string; result?: CompetitionRunResult; error?: string }>): string {
  const table = new Table({ head: ['run', 'status', 'score', 'improvement', 'success', 'runtime', 'lines changed', 'note'], style: { head: [], border: [] } });
  for (const o of outcomes) {
    const s = o.result?.score;
    if (!s) {
      table.push([o.id, 'error', '', '', '', '', '', o.error ?? '']);
      continue;
    }
    table.push([
      o.id,
      s.status,
      s.score === undefined ? '' : `${s.metric.name} ${s.score.toFixed(4)}`,
      s.relativeImprovement === undefined ? '' : `${s.relativeImprovement.toFixed(1)}%`,
      s.success ? 'yes' : 'no',
      `${s.runtimeSeconds.toFixed(1)} s`,
      s.linesChanged,
      s.reason ?? '',
    ]);
  }
  const scores = outcomes.flatMap((o) => (o.result ? [o.result.score] : []));
  const first = scores[0];
  const lines = [table.toString()];
  if (first) {
    const summary = summariseRuns(scores);
    lines.push(
      `baseline ${first.metric.name} ${first.baseline.toFixed(4)}, reference ${first.reference.toFixed(4)} (${first.metric.direction} is better); improvement = share of the baseline-to-reference gap closed`,
      `best ${summary.best?.relativeImprovement?.toFixed(1) ?? '-'}%, mean ${summary.mean?.toFixed(1)}%${summary.standardError !== undefined ? ` ± ${summary.standardError.toFixed(1)}` : ' (one run: no standard error)'} over ${summary.n} run(s), ${summary.successes} success(es)`,
    );
  }
  return lines.join('\n');
}
