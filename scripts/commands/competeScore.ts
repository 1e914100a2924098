/**
 * `lab compete score`: a methods/ folder that a person wrote, scored as an agent's would be (no agent,
 * no Temporal server). `lab compete audit`: the generic cheats against a task's hidden test split.
 */
import { promises as fs } from 'node:fs';
import Table from 'cli-table3';
import { AUDIT_LIMIT_PERCENT, auditTask, CHEATS, type CheatOutcome, type TaskAudit } from '../../activities/competition/audit/index.js';
import { CompetitionError, listCompetitions, loadCompetition, type CompetitionTask } from '../../activities/competition/index.js';
import { checkMethodsFolder, MethodsFolderError, removeScratchNow, scoreMethodsFolder } from '../../activities/competition/submission.js';
import { sandboxBackendFromEnv } from '../../activities/sandbox/index.js';
import type { ScoreSplit } from '../../common/competition.js';
import { CliError } from '../lib/client.js';
import { EXIT } from '../lib/exitCodes.js';
import { exitInterrupted, onInterrupt } from '../lib/interrupt.js';
import { print, printJson } from '../lib/output.js';

export interface CompeteScoreArgs {
  task: string;
  methods: string;
  split: ScoreSplit;
  json: boolean;
  /** Where to write the scoring log (both commands' output). */
  log?: string;
}

export async function runCompeteScore(a: CompeteScoreArgs): Promise<number> {
  const task = await loadTask(a.task, false);
  try {
    await checkMethodsFolder(a.methods);
  } catch (err) {
    if (err instanceof MethodsFolderError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
  if (!a.json) print(`scoring ${a.methods} on ${task.name}'s ${a.split} split in the sandbox (a scratch run, removed afterwards)...`);
  const result = await interruptible(() => scoreMethodsFolder({ task, methodsDir: a.methods, split: a.split, backend: sandboxBackendFromEnv() }));
  if (a.log) await fs.writeFile(a.log, `${result.log}\n`);
  const s = result.submission;
  const out = s
    ? { ...s, log: undefined }
    : { task: task.name, split: a.split, status: result.status, reason: result.reason, metric: { name: task.spec.metric.name, direction: task.spec.metric.direction }, score: result.status === 'scored' ? result.score : undefined, runtimeSeconds: result.runtimeSeconds, linesChanged: result.linesChanged };
  if (a.json) printJson(out);
  else {
    const metric = `${task.spec.metric.name} (${task.spec.metric.direction} is better)`;
    const lines = [`status: ${result.status}${result.reason ? ` (${result.reason})` : ''}`];
    if (result.status === 'scored' && result.score !== undefined) lines.push(`score: ${metric} ${fmt(result.score)}`);
    if (s) {
      const where = s.gapSource === 'draw' ? 'measured on the same data draw' : "reference.json's means over data draws";
      lines.push(`baseline ${s.baseline.toFixed(4)}, reference ${s.reference.toFixed(4)} (${where}${a.split === 'dev' ? ', dev split' : ''})`);
      if (s.relativeImprovement !== undefined) lines.push(`relative improvement: ${s.relativeImprovement.toFixed(1)}% of the baseline-to-reference gap${s.success ? ' (a success: at least 5%)' : ''}`);
    } else lines.push(`no reference.json yet: no baseline or reference to compare with (npm run competitions:measure -- --task ${task.name})`);
    lines.push(`runtime: ${result.runtimeSeconds.toFixed(1)} s; lines changed against the starter methods/: ${result.linesChanged}`);
    if (a.log) lines.push(`scoring log: ${a.log}`);
    print(lines.join('\n'));
  }
  return result.status === 'scored' ? EXIT.ok : EXIT.runFailed;
}

export interface CompeteAuditArgs {
  task?: string;
  all: boolean;
  json: boolean;
}

export async function runCompeteAudit(a: CompeteAuditArgs): Promise<number> {
  const names = a.all ? (await listCompetitions()).filter((c) => !c.error).map((c) => c.name) : [a.task!];
  const tasks: CompetitionTask[] = [];
  for (const name of names) tasks.push(await loadTask(name, true));
  const backend = sandboxBackendFromEnv();
  const audits: TaskAudit[] = [];
  for (const task of tasks) {
    if (!a.json && task.spec.harness === 'predictions') print(`auditing ${task.name}: ${CHEATS.length} cheats on the hidden test split...`);
    const audit = await interruptible(() => auditTask(task, { backend }));
    audits.push(audit);
    if (!a.json) print(formatAudit(audit));
  }
  if (a.json) printJson(a.all ? audits : audits[0]);
  else if (audits.length > 1) {
    const failed = audits.filter((t) => !t.passed);
    print(failed.length ? `${failed.length} of ${audits.length} tasks FAIL the audit: ${failed.map((t) => t.task).join(', ')}` : `all ${audits.length} tasks pass the audit`);
  }
  return audits.every((t) => t.passed) ? EXIT.ok : EXIT.runFailed;
}

/** The audit as a table and a verdict line. */
export function formatAudit(audit: TaskAudit): string {
  if (!audit.applies) return `${audit.task}: ${audit.note}`;
  const table = new Table({ head: ['cheat', 'status', 'score', 'improvement', 'runtime', 'verdict', 'what it found / why'], style: { head: [], border: [] }, colWidths: [20, 9, 11, 13, 9, 9, 60], wordWrap: true });
  for (const c of audit.cheats) {
    table.push([c.cheat, c.status, c.score === undefined ? '' : fmt(c.score), c.relativeImprovement === undefined ? '' : `${c.relativeImprovement.toFixed(1)}%`, `${c.runtimeSeconds.toFixed(1)} s`, c.verdict === 'fail' ? 'FAIL' : 'pass', note(c)]);
  }
  const m = audit.metric!;
  const where = audit.gapSource === 'draw' ? 'on this data draw' : "reference.json's means";
  const head = `${audit.task}: ${m.name} (${m.direction} is better), baseline ${audit.baseline!.toFixed(4)}, reference ${audit.reference!.toFixed(4)} (${where}); a valid cheat past ${AUDIT_LIMIT_PERCENT}% of the gap fails the task`;
  const verdict = audit.passed ? `${audit.task} PASSES the audit (${audit.seconds} s)` : `${audit.task} FAILS the audit (${audit.seconds} s): ${audit.failures.join('; ')}`;
  return [head, table.toString(), verdict].join('\n');
}

/** 4 decimals, or 3 significant digits for a score that rounds to 0 (a recovered RMSE of 3e-6). */
function fmt(x: number): string {
  return x === 0 || Math.abs(x) >= 1e-3 ? x.toFixed(4) : x.toExponential(2);
}

function note(c: CheatOutcome): string {
  const text = c.status === 'scored' ? (c.said ?? '') : `${c.reason ?? ''}${c.said ? ` (it said: ${c.said})` : ''}`;
  return text.length > 240 ? `${text.slice(0, 237)}...` : text;
}

async function loadTask(name: string, requireReference: boolean): Promise<CompetitionTask> {
  try {
    return await loadCompetition(name, { requireReference });
  } catch (err) {
    if (err instanceof CompetitionError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

/** Ctrl-C: the sandboxed processes die with us (bubblewrap's --die-with-parent); the scratch folder is removed before exiting. */
async function interruptible<T>(work: () => Promise<T>): Promise<T> {
  const stop = onInterrupt(() => {
    removeScratchNow();
    process.stderr.write('\ninterrupted: the scratch run was removed\n');
    exitInterrupted();
  });
  try {
    return await work();
  } finally {
    stop();
  }
}
