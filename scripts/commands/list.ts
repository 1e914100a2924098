/** `lab list`: research runs, newest first, filtered by status, task, model or benchmark. */
import Table from 'cli-table3';
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { z } from 'zod';
import type { RunStatus } from '../../common/schemas.js';
import { LAB_BENCH, LAB_MODEL, LAB_STATUS, LAB_TASK } from '../../common/searchAttributes.js';
import { booleanFlag, defineCommand, flag } from '../lib/command.js';
import { nonEmptyText, oneOf, wholeNumber } from '../lib/options.js';
import { print, printJson, withClient } from '../lib/output.js';

const STATUSES: RunStatus[] = ['running', 'awaiting_review', 'completed', 'rejected', 'budget_exhausted', 'failed'];
/** Temporal's own end states, for runs that closed without Durable Lab setting a status. */
const EXECUTION_STATUSES = ['terminated', 'cancelled', 'timed_out'] as const;
export const ALL_STATUSES = [...STATUSES, ...EXECUTION_STATUSES];
/** Runs looked at to sort newest first; the dev server's list order is not by start time. */
const SCAN_LIMIT = 10_000;

export interface RunRow {
  runId: string;
  status: string;
  execution: string;
  task?: string;
  model?: string;
  started: string;
}

export const listCommand = defineCommand({
  summary: 'list research runs, newest first, filtered by status, task, model or benchmark',
  usage: `lab list [--status ${ALL_STATUSES.join('|')}] [--task NAME] [--model SPEC] [--benchmark BENCH_ID] [--limit 20] [--json]`,
  options: { status: { type: 'string' }, task: { type: 'string' }, model: { type: 'string' }, benchmark: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [],
  schema: z.object({
    status: flag(oneOf('--status', ALL_STATUSES)),
    task: flag(nonEmptyText('--task')),
    model: flag(nonEmptyText('--model')),
    benchmark: flag(nonEmptyText('--benchmark')),
    limit: flag(wholeNumber('--limit', 1, 1000)),
    json: booleanFlag,
  }),
  async run({ status, task, model, benchmark, limit = 20, json }) {
    const rows = await withClient(async ({ client }) => {
      const found: RunRow[] = [];
      for await (const w of client.workflow.list({ query: runListQuery({ status, task, model, benchmark }), pageSize: 1000 })) {
        found.push(runRowOf(w));
        if (found.length >= SCAN_LIMIT) break;
      }
      return found.sort((a, b) => b.started.localeCompare(a.started)).slice(0, limit);
    });
    if (json) return void printJson(rows);
    if (!rows.length) return void print('no runs match');
    print(formatRunTable(rows, process.stdout.columns));
  },
});

/**
 * The visibility query for a status. Temporal's ExecutionStatus takes the server's own names
 * (Running, Completed, Failed, Canceled, Terminated, TimedOut, ContinuedAsNew), not the SDK's
 * CANCELLED/TIMED_OUT. LabStatus alone is not enough: a run that was terminated, cancelled or timed
 * out could not update it, so it still says running or awaiting_review.
 */
export function statusFilters(status: (typeof ALL_STATUSES)[number]): Array<[string, string]> {
  const execution = (name: string): [string, string] => ['ExecutionStatus', name];
  switch (status) {
    case 'running':
    case 'awaiting_review':
      return [[LAB_STATUS.name, status], execution('Running')];
    case 'completed':
    case 'rejected':
    case 'budget_exhausted':
      return [[LAB_STATUS.name, status], execution('Completed')];
    // A run that failed before it could set its status (bad input) is failed too.
    case 'failed':
      return [execution('Failed')];
    case 'terminated':
      return [execution('Terminated')];
    case 'cancelled':
      return [execution('Canceled')];
    case 'timed_out':
      return [execution('TimedOut')];
  }
}

/** The visibility query for research runs with these filters (`lab list` and the web console). */
export function runListQuery(filters: { status?: (typeof ALL_STATUSES)[number]; task?: string; model?: string; benchmark?: string }): string {
  const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const query = [`WorkflowType = 'researchRun'`];
  if (filters.status) query.push(...statusFilters(filters.status).map(([key, value]) => `${key} = ${quote(value)}`));
  if (filters.task) query.push(`${LAB_TASK.name} = ${quote(filters.task)}`);
  if (filters.model) query.push(`${LAB_MODEL.name} = ${quote(filters.model)}`);
  // A benchmark's items' runs carry its id (LabBench).
  if (filters.benchmark) query.push(`${LAB_BENCH.name} = ${quote(filters.benchmark)}`);
  return query.join(' AND ');
}

/** One listed run as a row. */
export function runRowOf(w: WorkflowExecutionInfo): RunRow {
  return {
    runId: w.workflowId,
    status: rowStatus(w.status.name, w.typedSearchAttributes.get(LAB_STATUS)),
    execution: w.status.name,
    task: w.typedSearchAttributes.get(LAB_TASK),
    model: w.typedSearchAttributes.get(LAB_MODEL),
    started: w.startTime.toISOString(),
  };
}

/** Durable Lab's status while the run is open or when it completed; Temporal's once it closed otherwise. */
export function rowStatus(execution: string, labStatus: string | undefined): string {
  if (execution === 'RUNNING' || execution === 'COMPLETED') return labStatus ?? execution.toLowerCase();
  return execution.toLowerCase();
}

/** A borderless table; long model specs (URLs) are shortened in the middle so columns stay aligned. */
export function formatRunTable(rows: RunRow[], width = 160): string {
  const modelWidth = Math.max(16, Math.min(48, width - 110));
  const table = new Table({
    head: ['run', 'status', 'task', 'model', 'started'],
    chars: { top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ' },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
  });
  for (const r of rows) {
    table.push([r.runId, r.status, r.task ?? '?', shorten(r.model ?? '?', modelWidth), r.started.replace('T', ' ').slice(0, 19)]);
  }
  return table.toString();
}

export function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const keep = max - 1;
  return `${text.slice(0, Math.ceil(keep / 2))}…${text.slice(text.length - Math.floor(keep / 2))}`;
}
