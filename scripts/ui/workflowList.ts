/**
 * Lab workflows of one kind (benchmarks, competition runs, environment sessions) for the console's
 * list pages: newest first, one page at a time. A benchmark started again (retry, resume) or a
 * workflow that continued as new has several executions under one id: it is listed once, with its
 * latest execution, in the place its first start gives it.
 */
import type { Client, WorkflowExecutionInfo } from '@temporalio/client';

export const PAGE_SIZE = 50;
/** As `lab list`: the dev server does not list by start time, so this many executions are read and sorted. */
export const SCAN_LIMIT = 10_000;

export interface ListedWorkflow {
  /** The latest execution. */
  latest: WorkflowExecutionInfo;
  /** When the first execution started. */
  firstStarted: Date;
  executions: number;
}

export interface WorkflowPage {
  rows: ListedWorkflow[];
  /** Workflows found (executions up to the scan limit) and whether the scan stopped there. */
  total: number;
  truncated: boolean;
  page: number;
  pages: number;
}

export async function listWorkflows(client: Client, query: string, page = 1): Promise<WorkflowPage> {
  const byId = new Map<string, ListedWorkflow>();
  let scanned = 0;
  let truncated = false;
  for await (const w of client.workflow.list({ query, pageSize: 1000 })) {
    const seen = byId.get(w.workflowId);
    if (!seen) byId.set(w.workflowId, { latest: w, firstStarted: w.startTime, executions: 1 });
    else {
      seen.executions++;
      if (w.startTime > seen.latest.startTime) seen.latest = w;
      if (w.startTime < seen.firstStarted) seen.firstStarted = w.startTime;
    }
    if (++scanned >= SCAN_LIMIT) {
      truncated = true;
      break;
    }
  }
  const found = [...byId.values()].sort((a, b) => b.firstStarted.getTime() - a.firstStarted.getTime());
  return pageOf(found, page, truncated);
}

/** One page of `found` (sorted already); a page past the last shows the last. */
export function pageOf<Row>(found: Row[], page: number, truncated: boolean): { rows: Row[]; total: number; truncated: boolean; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(found.length / PAGE_SIZE));
  const current = Math.min(Math.max(1, page), pages);
  return { rows: found.slice((current - 1) * PAGE_SIZE, current * PAGE_SIZE), total: found.length, truncated, page: current, pages };
}

/** `?page=N` as the runs list takes it; throws an Error with the runs list's message. */
export function pageParam(params: URLSearchParams): number {
  const raw = params.get('page') ?? '1';
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) throw new Error(`page must be a whole number ≥ 1, got "${raw}"`);
  return Number(raw);
}

/** A value for a visibility query, quoted as `lab list` quotes its filters. */
export function quoteQuery(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
