/**
 *   GET /competitions      competition runs (LabKind = 'competition'), newest first (?benchmark, ?page),
 *                          each with its result as `lab compete` prints it
 */
import type { Client } from '@temporalio/client';
import type { CompetitionRunResult } from '../../../common/competition.js';
import { LAB_BENCH, LAB_MODEL, LAB_TASK } from '../../../common/searchAttributes.js';
import { rootMessage } from '../../lib/runs.js';
import { competitionsPage, type CompetitionRow } from '../pages/competitions.js';
import { quoteQuery, type ListedWorkflow } from '../workflowList.js';
import { pagedListRoute } from './pagedList.js';
import type { RouteContext, UiRoute } from './types.js';

const benchmarkOf = (ctx: RouteContext) => ctx.url.searchParams.get('benchmark')?.trim() || undefined;

const listRoute = pagedListRoute<CompetitionRow>({
  query: (ctx) => {
    const benchmark = benchmarkOf(ctx);
    return [`LabKind = 'competition'`, ...(benchmark ? [`${LAB_BENCH.name} = ${quoteQuery(benchmark)}`] : [])].join(' AND ');
  },
  rowOf: competitionRow,
  render: (ctx, shown) => competitionsPage({ ...shown, benchmark: benchmarkOf(ctx), temporalLink: ctx.temporalLink }),
});

export const COMPETITION_ROUTES: UiRoute[] = [{ method: 'GET', path: /^\/competitions\/?$/, handle: listRoute }];

/** One run's outcome: its score once scored, else how its workflow ended and why. */
async function competitionRow(client: Client, { latest: w }: ListedWorkflow): Promise<CompetitionRow> {
  const row: CompetitionRow = {
    runId: w.workflowId,
    task: w.typedSearchAttributes.get(LAB_TASK),
    model: w.typedSearchAttributes.get(LAB_MODEL),
    benchmark: w.typedSearchAttributes.get(LAB_BENCH),
    started: w.startTime,
    status: w.status.name === 'RUNNING' ? 'running' : w.status.name.toLowerCase(),
  };
  if (w.status.name === 'RUNNING') return row;
  const handle = client.workflow.getHandle(w.workflowId, w.runId);
  if (w.status.name === 'COMPLETED') {
    const result = (await handle.result()) as CompetitionRunResult;
    return { ...row, model: result.model, status: result.score.status, score: result.score, ...(result.score.reason ? { reason: result.score.reason } : {}) };
  }
  return { ...row, reason: await handle.result().then(() => '', (err) => rootMessage(err)) };
}
