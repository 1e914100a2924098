/** `lab run`: validate everything, start a research run, and follow it (asking at gates in a terminal). */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { z } from 'zod';
import { cliStore, locator } from '../lib/store.js';
import { unenforceableBudget } from '../../activities/llm/prices.js';
import { AUTO_MODEL, isAutoModel, parseModelSpec } from '../../common/modelSpec.js';
import { CliError } from '../lib/client.js';
import { booleanFlag, defineCommand, flag, required } from '../lib/command.js';
import { EXIT, runExitCode } from '../lib/exitCodes.js';
import { followRun } from '../lib/follow.js';
import { formatRun } from '../lib/format.js';
import { createGatePrompter } from '../lib/gatePrompt.js';
import { duration, modelSpec, newRunId, nonEmptyText, oneOf, positiveNumber, stageList, wholeNumber } from '../lib/options.js';
import { print, printJson, withClient } from '../lib/output.js';
import { planRun, startRun } from '../lib/runs.js';
import { runLink } from '../lib/uiLink.js';
import { exitInterrupted, onInterrupt } from '../lib/interrupt.js';
import { runPreflight } from '../lib/preflight.js';

export const budgetOptions = {
  'budget-usd': flag(positiveNumber('--budget-usd')),
  'max-tokens': flag(wholeNumber('--max-tokens', 1)),
};

/** The experiment loop's bounds from the options given; defaults (30 steps, 60 min, 10 min a command) otherwise. */
function experimentLimitsOf(a: { 'max-steps'?: number; 'experiment-minutes'?: number; 'command-minutes'?: number; 'coding-agent'?: string; 'host-wait'?: number }) {
  if (a['max-steps'] === undefined && a['experiment-minutes'] === undefined && a['command-minutes'] === undefined && !a['coding-agent'] && a['host-wait'] === undefined) return undefined;
  return {
    // How long a step waits for the run's sandbox host before the host is checked (and, when gone, replaced).
    ...(a['host-wait'] !== undefined ? { hostWaitSeconds: a['host-wait'] } : {}),
    // An external coding-agent CLI (e.g. Claude Code) instead of the built-in agent loop, in the same sandbox.
    ...(a['coding-agent'] ? { agent: { kind: 'cli' as const, command: a['coding-agent'] } } : {}),
    ...(a['max-steps'] !== undefined ? { maxSteps: a['max-steps'] } : {}),
    ...(a['experiment-minutes'] !== undefined ? { wallSeconds: a['experiment-minutes'] * 60 } : {}),
    sandbox: a['command-minutes'] !== undefined ? { wallSeconds: a['command-minutes'] * 60, cpuSeconds: a['command-minutes'] * 60 } : {},
  };
}

async function runExists(client: Client, runId: string): Promise<boolean> {
  try {
    await client.workflow.getHandle(runId).describe();
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

export function budgetOf(args: { 'budget-usd'?: number; 'max-tokens'?: number }) {
  const { 'budget-usd': usd, 'max-tokens': tokens } = args;
  return usd === undefined && tokens === undefined ? undefined : { usd, tokens };
}

const schema = z
  .object({
    task: required('missing task: lab run <task-folder|task-name> (see `lab tasks`)', (v) => {
      if (!v.trim()) throw new Error('missing task: lab run <task-folder|task-name> (see `lab tasks`)');
      return v;
    }),
    model: flag(modelSpec('--model')),
    'reasoning-effort': flag(oneOf('--reasoning-effort', ['low', 'medium', 'high'] as const)),
    gate: flag(stageList('--gate')),
    'gate-timeout': flag(duration('--gate-timeout')),
    'on-timeout': flag(oneOf('--on-timeout', ['approve', 'reject'] as const)),
    'max-revisions': flag(wholeNumber('--max-revisions', 0, 20)),
    ...budgetOptions,
    'max-steps': flag(wholeNumber('--max-steps', 1, 500)),
    'experiment-minutes': flag(positiveNumber('--experiment-minutes')),
    'command-minutes': flag(positiveNumber('--command-minutes')),
    'coding-agent': flag(nonEmptyText('--coding-agent')),
    'host-wait': flag(duration('--host-wait')),
    id: flag(newRunId('--id')),
    'no-preflight': booleanFlag,
    detach: booleanFlag,
    interactive: booleanFlag,
    follow: booleanFlag,
    json: booleanFlag,
  })
  .superRefine((a, ctx) => {
    const needsGate = (['gate-timeout', 'on-timeout', 'max-revisions'] as const).find((k) => a[k] !== undefined);
    if (needsGate && !a.gate) ctx.addIssue({ code: 'custom', message: `--${needsGate} applies to gates: add --gate <stages>` });
    else if (a['on-timeout'] && a['gate-timeout'] === undefined) {
      ctx.addIssue({ code: 'custom', message: '--on-timeout needs --gate-timeout (a gate without a timeout waits for a decision)' });
    }
    if (a['host-wait'] !== undefined && a['host-wait'] > 86_400) ctx.addIssue({ code: 'custom', message: '--host-wait is at most 1d' });
    if (a.interactive && (a.json || a.detach)) ctx.addIssue({ code: 'custom', message: '--interactive cannot be combined with --json or --detach' });
    if (a.follow && a.detach) ctx.addIssue({ code: 'custom', message: '--follow and --detach contradict each other' });
  });

export const runCommand = defineCommand({
  summary: 'start a research run on a task folder or task name',
  usage:
    'lab run <task-folder|task-name> [--model auto] [--reasoning-effort low|medium|high] [--gate idea,proposal] [--gate-timeout 2h] [--on-timeout approve|reject]\n' +
    '        [--max-revisions 3] [--budget-usd N] [--max-tokens N] [--max-steps 30] [--experiment-minutes 60] [--command-minutes 10] [--coding-agent "CMD"] [--host-wait 10m]\n' +
    '        [--id RUN_ID] [--no-preflight] [--detach] [--interactive] [--follow] [--json]\n\n' +
    'Without a terminal (output piped, or --json), lab run returns (exit 0) when a gate waits for a decision,\n' +
    'naming the decision commands; --follow keeps following until the run ends (decide from another shell).',
  options: {
    model: { type: 'string' },
    'reasoning-effort': { type: 'string' },
    gate: { type: 'string' },
    'gate-timeout': { type: 'string' },
    'on-timeout': { type: 'string' },
    'max-revisions': { type: 'string' },
    'budget-usd': { type: 'string' },
    'max-tokens': { type: 'string' },
    'max-steps': { type: 'string' },
    'experiment-minutes': { type: 'string' },
    'command-minutes': { type: 'string' },
    'coding-agent': { type: 'string' },
    'host-wait': { type: 'string' },
    id: { type: 'string' },
    'no-preflight': { type: 'boolean' },
    detach: { type: 'boolean' },
    interactive: { type: 'boolean' },
    follow: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  positionals: ['task'],
  schema,
  async run(a) {
    // `auto` is chosen by a worker, from its keys (the preflight says which; without one, the run chooses when it starts).
    const requested = a.model ?? AUTO_MODEL;
    const auto = isAutoModel(requested);
    let model = requested;
    const store = cliStore();
    // Validate everything before connecting, so bad input is reported as such and never starts anything
    // (for `auto`, the budget once the model is chosen: the placeholder only stands in for the spec check).
    const plan = await planRun({
      task: a.task,
      model: auto ? 'embedded' : requested,
      reasoningEffort: a['reasoning-effort'],
      workflowId: a.id,
      gates: {
        stages: a.gate ?? [],
        ...(a['gate-timeout'] !== undefined ? { timeoutSeconds: a['gate-timeout'] } : {}),
        ...(a['on-timeout'] ? { onTimeout: a['on-timeout'] } : {}),
        ...(a['max-revisions'] !== undefined ? { maxRevisions: a['max-revisions'] } : {}),
      },
      budget: auto ? undefined : budgetOf(a),
      experiment: experimentLimitsOf(a),
    });
    return withClient(async ({ client }) => {
      // A chosen id that an earlier run used is refused before anything is written into its folder.
      if (a.id && (await runExists(client, a.id))) {
        throw new CliError(`a run with id "${a.id}" already exists (see \`lab status ${a.id}\`); choose another --id`, 2);
      }
      if (!a['no-preflight']) {
        const report = await runPreflight(client, plan.workflowId, requested);
        if (report !== 'no-worker' && report.model) model = report.model;
        if (report === 'no-worker') {
          if (!a.json) process.stderr.write('lab run: no worker answered the preflight check in time; starting anyway (the run checks itself first when a worker picks it up)\n');
        } else {
          for (const w of report.warnings) process.stderr.write(`lab run: warning: ${w}\n`);
          if (report.problems.length) {
            throw new CliError(`preflight found ${report.problems.length} problem(s); nothing was started:\n${report.problems.map((p) => `  - ${p}`).join('\n')}`);
          }
        }
      }
      if (auto && !isAutoModel(model)) {
        const unenforceable = unenforceableBudget(parseModelSpec(model), budgetOf(a));
        if (unenforceable) throw new CliError(`--model auto chose ${model} on the workers: ${unenforceable}; nothing was started`, 2);
      }
      // Still `auto` when no preflight chose: the run then chooses on its worker and checks the budget there, before any paid call.
      const { workflowId } = plan;
      const input = { ...plan.input, model, budget: budgetOf(a) ?? {} };
      await startRun(client, workflowId, input).catch((err) => {
        if (/already (started|running|exists)/i.test((err as Error).message)) throw new CliError(`a run with id "${workflowId}" already exists (see \`lab status ${workflowId}\`)`, 2);
        throw err;
      });
      const link = runLink(workflowId);
      if (a.json && a.detach) {
        printJson({ runId: workflowId, task: input.task.name, model, ui: link });
        return EXIT.ok;
      }
      if (!a.json) {
        const how = !auto ? '' : isAutoModel(model) ? ' (a worker chooses from its keys when the run starts; lab status shows which)' : ' (auto: chosen by a worker from its keys)';
        print(`started run ${workflowId}\n  task   ${input.task.name}\n  model  ${model}${how}${model === 'embedded' ? ' (embedded model: small and weak; set a provider key on the workers for real research)' : ''}`);
        print(`  UI     ${link}\n  files  ${store.locateRun(workflowId)}`);
      }
      if (a.detach) {
        print(`follow it with: lab status ${workflowId} --follow`);
        return EXIT.ok;
      }
      // Ctrl-C stops following, not the run: it lives in Temporal.
      const stopFollowing = onInterrupt(() => {
        process.stderr.write(`\nstopped following; run ${workflowId} goes on in Temporal: lab status ${workflowId} --follow (UI ${link})\n`);
        exitInterrupted();
      });
      const interactive = !a.json && (a.interactive || (process.stdin.isTTY && process.stdout.isTTY));
      const prompter = interactive ? createGatePrompter(process.stdin, process.stdout, locator(store)) : undefined;
      try {
        const view = await followRun(client, workflowId, {
          locate: locator(store),
          write: a.json ? () => {} : undefined,
          onGate: prompter ? (gate) => prompter.decide(client, workflowId, gate) : undefined,
          stopAtGate: !prompter && !a.follow,
        });
        if (a.json) printJson(view);
        else print(formatRun(view, locator(store)));
        const gate = view.execution === 'RUNNING' ? view.progress?.pendingGate : undefined;
        if (gate && !a.json) {
          print(`run ${workflowId} waits at the ${gate.stage} gate for a decision (see decide: above); it goes on in Temporal: lab status ${workflowId} --follow`);
        }
        return runExitCode(view);
      } finally {
        prompter?.close();
        stopFollowing();
      }
    });
  },
});
