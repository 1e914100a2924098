/** `lab list`: research runs, newest first, filtered by status, task or model. */
import Table from 'cli-table3';
import { z } from 'zod';
import type { RunStatus } from '../../common/schemas.js';
import { LAB_MODEL, LAB_STATUS, LAB_TASK } from '../../common/searchAttributes.js';
import { booleanFlag, defineCommand, flag } from '../lib/command.js';
import { nonEmptyText, oneOf, wholeNumber } from '../lib/options.js';
import { print, printJson, withClient } from '../lib/output.js';

const STATUSES: RunStatus[] = ['running', 'awaiting_review', 'completed', 'rejected', 'budget_exhausted', 'failed'];
/** Temporal's own end states, for runs that closed without Durable Lab setting a status. */
const EXECUTION_STATUSES = ['terminated', 'cancelled', 'timed_out'] as const;
const ALL_STATUSES = [...STATUSES, ...EXECUTION_STATUSES];
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
  summary: 'list research runs, newest first, filtered by status, task or model',
  usage: `lab list [--status ${ALL_STATUSES.join('|')}] [--task NAME] [--model SPEC] [--limit 20] [--json]`,
  options: { status: { type: 'string' }, task: { type: 'string' }, model: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } },
  positionals: [],
  schema: z.object({
    status: flag(oneOf('--status', ALL_STATUSES)),
    task: flag(nonEmptyText('--task')),
    model: flag(nonEmptyText('--model')),
    limit: flag(wholeNumber('--limit', 1, 1000)),
    json: booleanFlag,
  }),
  async run({ status, task, model, limit = 20, json }) {
    const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    const filters = [`WorkflowType = 'researchRun'`];
    if (status && (EXECUTION_STATUSES as readonly string[]).includes(status)) filters.push(`ExecutionStatus = ${quote(executionName(status))}`);
    else if (status) filters.push(`${LAB_STATUS.name} = ${quote(status)}`);
    if (task) filters.push(`${LAB_TASK.name} = ${quote(task)}`);
    if (model) filters.push(`${LAB_MODEL.name} = ${quote(model)}`);
    const rows = await withClient(async ({ client }) => {
      const found: RunRow[] = [];
      for await (const w of client.workflow.list({ query: filters.join(' AND '), pageSize: 1000 })) {
        const closedEarly = w.status.name !== 'RUNNING' && w.status.name !== 'COMPLETED' && w.status.name !== 'FAILED';
        found.push({
          runId: w.workflowId,
          // A terminated run cannot update its own status attribute; Temporal's status is the truth then.
          status: closedEarly ? w.status.name.toLowerCase() : (w.typedSearchAttributes.get(LAB_STATUS) ?? w.status.name.toLowerCase()),
          execution: w.status.name,
          task: w.typedSearchAttributes.get(LAB_TASK),
          model: w.typedSearchAttributes.get(LAB_MODEL),
          started: w.startTime.toISOString(),
        });
        if (found.length >= SCAN_LIMIT) break;
      }
      return found.sort((a, b) => b.started.localeCompare(a.started)).slice(0, limit);
    });
    if (json) return void printJson(rows);
    if (!rows.length) return void print('no runs match');
    print(formatRunTable(rows, process.stdout.columns));
  },
});

function executionName(status: string): string {
  return status.toUpperCase();
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
