/**
 * The runs `lab list` shows, for the console: research runs, newest first, filtered by status,
 * task, model or benchmark, one page at a time. Filters are checked by `lab list`'s own schema (same rules,
 * same messages) and turned into the same visibility query (`runListQuery`).
 */
import type { Client } from '@temporalio/client';
import { ALL_STATUSES, listCommand, runListQuery, runRowOf, type RunRow } from '../commands/list.js';

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

export const PAGE_SIZE = 50;
/** As `lab list`: the dev server does not list by start time, so this many are read and sorted. */
const SCAN_LIMIT = 10_000;

/** The query parameters the runs page filters by, as `lab list`'s flags. */
export const FILTER_NAMES = ['status', 'task', 'model', 'benchmark'] as const;

/** Validates filters given as query parameters; throws an Error with `lab list`'s message. */
export function parseFilters(params: URLSearchParams): RunFilters {
  const raw: Record<string, string> = {};
  // A repeated filter counts with its last value, as `lab list --status a --status b` does.
  for (const key of FILTER_NAMES) {
    const value = params.getAll(key).at(-1);
    if (value) raw[key] = value;
  }
  const checked = listCommand.schema.safeParse(raw);
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
  const pages = Math.max(1, Math.ceil(found.length / PAGE_SIZE));
  const current = Math.min(Math.max(1, page), pages);
  return { rows: found.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE), total: found.length, truncated, page: current, pages };
}

