/**
 *   GET /envs      environment sessions (LabKind = 'env'), newest first (?page), each as its
 *                  `session` query (or, once done, its result) describes it
 */
import type { Client } from '@temporalio/client';
import type { EnvSessionView } from '../../../common/envSession.js';
import { mapLimited } from '../../../common/mapLimited.js';
import { LAB_TASK } from '../../../common/searchAttributes.js';
import { rootMessage } from '../../lib/runs.js';
import { envSessionQuery } from '../../../workflows/envSession.js';
import { envsPage, envStatus, type EnvRow } from '../pages/envs.js';
import { listWorkflows, pageParam, type ListedWorkflow } from '../workflowList.js';
import type { RouteContext, UiRoute } from './types.js';

/** An open session's state comes from a worker: a page does not wait long for one that is down. */
const QUERY_DEADLINE_MS = 3000;

export const ENV_ROUTES: UiRoute[] = [{ method: 'GET', path: /^\/envs\/?$/, handle: listRoute }];

async function listRoute(ctx: RouteContext): Promise<void> {
  let pageNumber: number;
  try {
    pageNumber = pageParam(ctx.url.searchParams);
  } catch (err) {
    return ctx.send(400, envsPage({ error: (err as Error).message, temporalLink: ctx.temporalLink }));
  }
  const list = await listWorkflows(ctx.client, `LabKind = 'env'`, pageNumber);
  const rows = await mapLimited(list.rows, 8, (w) => envRow(ctx.client, w));
  ctx.send(200, envsPage({ rows, list, temporalLink: ctx.temporalLink }));
}

async function envRow(client: Client, { latest: w }: ListedWorkflow): Promise<EnvRow> {
  const row: EnvRow = { sessionId: w.workflowId, task: w.typedSearchAttributes.get(LAB_TASK), started: w.startTime, status: w.status.name.toLowerCase() };
  const handle = client.workflow.getHandle(w.workflowId, w.runId);
  if (w.status.name === 'RUNNING') {
    try {
      const view = await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(envSessionQuery));
      return { ...row, view, status: envStatus(view) };
    } catch {
      return { ...row, reason: `running, but no worker answered within ${QUERY_DEADLINE_MS / 1000} s (is lab worker running?)` };
    }
  }
  if (w.status.name === 'COMPLETED') {
    const view = (await handle.result()) as EnvSessionView;
    return { ...row, view, status: envStatus(view) };
  }
  return { ...row, reason: await handle.result().then(() => '', (err) => rootMessage(err)) };
}
