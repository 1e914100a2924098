/**
 * The runs `lab list` shows, for the console: research runs, newest first, filtered by status,
 * task or model, one page at a time. Filters are checked by `lab list`'s own schema (same rules,
 * same messages) and turned into the same visibility query (`statusFilters`).
 */
import type { Client } from '@temporalio/client';
import { LAB_MODEL, LAB_STATUS, LAB_TASK } from '../../common/searchAttributes.js';
import { listCommand, rowStatus, statusFilters, type RunRow } from '../commands/list.js';

/** The statuses `lab list --status` takes (its usage line is checked against this list in tests/ui.test.ts). */
export const RUN_STATUSES = ['running', 'awaiting_review', 'completed', 'rejected', 'budget_exhausted', 'failed', 'terminated', 'cancelled', 'timed_out'] as const;
export type ListStatus = (typeof RUN_STATUSES)[number];

export interface RunFilters {
  status?: ListStatus;
  task?: string;
  model?: string;
}

export const PAGE_SIZE = 50;
/** As `lab list`: the dev server does not list by start time, so this many are read and sorted. */
const SCAN_LIMIT = 10_000;

/** Validates filters given as query parameters; throws an Error with `lab list`'s message. */
export function parseFilters(params: URLSearchParams): RunFilters {
  const raw: Record<string, string> = {};
  for (const key of ['status', 'task', 'model']) if (params.get(key)) raw[key] = params.get(key)!;
  const checked = listCommand.schema.safeParse(raw);
  if (!checked.success) throw new Error(checked.error.issues[0].message);
  const { status, task, model } = checked.data;
  return { ...(status ? { status } : {}), ...(task ? { task } : {}), ...(model ? { model } : {}) };
}

export interface RunPage {
  rows: RunRow[];
  /** Matching runs (up to the scan limit) and whether the scan stopped there. */
  total: number;
  truncated: boolean;
  page: number;
  pages: number;
}

export async function listRuns(client: Client, filters: RunFilters, page = 1): Promise<RunPage> {
  const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const query = [`WorkflowType = 'researchRun'`];
  if (filters.status) query.push(...statusFilters(filters.status).map(([key, value]) => `${key} = ${quote(value)}`));
  if (filters.task) query.push(`${LAB_TASK.name} = ${quote(filters.task)}`);
  if (filters.model) query.push(`${LAB_MODEL.name} = ${quote(filters.model)}`);
  const found: RunRow[] = [];
  let truncated = false;
  for await (const w of client.workflow.list({ query: query.join(' AND '), pageSize: 1000 })) {
    found.push({
      runId: w.workflowId,
      status: rowStatus(w.status.name, w.typedSearchAttributes.get(LAB_STATUS)),
      execution: w.status.name,
      task: w.typedSearchAttributes.get(LAB_TASK),
      model: w.typedSearchAttributes.get(LAB_MODEL),
      started: w.startTime.toISOString(),
    });
    if (found.length >= SCAN_LIMIT) {
      truncated = true;
      break;
    }
  }
  found.sort((a, b) => b.started.localeCompare(a.started));
  const pages = Math.max(1, Math.ceil(found.length / PAGE_SIZE));
  const current = Math.min(Math.max(1, page), pages);
  return { rows: found.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE), total: found.length, truncated, page: current, pages };
}

