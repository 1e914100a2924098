/**
 * The runs `lab list` shows, for the console: research runs, newest first, filtered by status,
 * task, model or benchmark, one page at a time. Filters are checked by `lab list`'s own schema (same rules,
 * same messages) and turned into the same visibility query (`runListQuery`).
 */
import type { Client } from '@temporalio/client';
import { ALL_STATUSES, listCommand, runListQuery, runRowOf, type RunRow } from '../commands/list.js';
import { pageOf, SCAN_LIMIT } from './workflowList.js';

/** The statuses `lab list --status` takes. */
export const RUN_STATUSES = ALL_STATUSES;
export type ListStatus = (typeof RUN_STATUSES)[number];

export interface RunFilters {
  status?: ListStatus;
  task?: string;
  model?: string;
  /** Runs of one benchmark's items (`lab list --benchmark`). */
  benchmark?: string;
}


/** The query parameters the runs page filters by, as `lab list`'s flags. */
export const FILTER_NAMES = ['status', 'task', 'model', 'benchmark'] as const;

/**
 * The filters as typed, each by its last value: a repeated filter counts with its last value, as
 * `lab list --status a --status b` does. Unchecked (the page shows them again when refused).
 */
export function typedFilters(params: URLSearchParams): Partial<Record<(typeof FILTER_NAMES)[number], string>> {
  const raw: Partial<Record<(typeof FILTER_NAMES)[number], string>> = {};
  for (const key of FILTER_NAMES) {
    const value = params.getAll(key).at(-1);
    if (value) raw[key] = value;
  }
  return raw;
}

/** Validates filters given as query parameters; throws an Error with `lab list`'s message. */
export function parseFilters(params: URLSearchParams): RunFilters {
  const checked = listCommand.schema.safeParse(typedFilters(params));
  if (!checked.success) throw new Error(checked.error.issues[0].message);
  const { status, task, model, benchmark } = checked.data;
  return { ...(status ? { status } : {}), ...(task ? { task } : {}), ...(model ? { model } : {}), ...(benchmark ? { benchmark } : {}) };
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
  const found: RunRow[] = [];
  let truncated = false;
  for await (const w of client.workflow.list({ query: runListQuery(filters), pageSize: 1000 })) {
    found.push(runRowOf(w));
    if (found.length >= SCAN_LIMIT) {
      truncated = true;
      break;
    }
  }
  found.sort((a, b) => b.started.localeCompare(a.started));
  return pageOf(found, page, truncated);
}

