/**
 * A page that lists one kind of workflow, newest first, `?page` at a time (benchmarks,
 * competition runs, environment sessions): a bad page number is a 400 with the reason, and each
 * listed workflow may be read further (its result, a query) a few at a time.
 */
import type { Client } from '@temporalio/client';
import { mapLimited } from '../../../common/mapLimited.js';
import { listWorkflows, pageParam, type ListedWorkflow, type WorkflowPage } from '../workflowList.js';
import type { RouteContext } from './types.js';

/** Workflows read further at once for one page. */
const ROW_READS_AT_ONCE = 8;

export type ListShown<Row> = { list: WorkflowPage; rows: Row[] } | { error: string };

export function pagedListRoute<Row = ListedWorkflow>(o: {
  /** The visibility query of the workflows listed. */
  query(ctx: RouteContext): string;
  /** What a row shows beyond the listing (default: the listing itself). */
  rowOf?(client: Client, workflow: ListedWorkflow): Promise<Row>;
  render(ctx: RouteContext, shown: ListShown<Row>): string;
}): (ctx: RouteContext) => Promise<void> {
  return async (ctx) => {
    let pageNumber: number;
    try {
      pageNumber = pageParam(ctx.url.searchParams);
    } catch (err) {
      return ctx.send(400, o.render(ctx, { error: (err as Error).message }));
    }
    const list = await listWorkflows(ctx.client, o.query(ctx), pageNumber);
    const rows = o.rowOf ? await mapLimited(list.rows, ROW_READS_AT_ONCE, (w) => o.rowOf!(ctx.client, w)) : (list.rows as Row[]);
    ctx.send(200, o.render(ctx, { list, rows }));
  };
}
