/**
 *   GET /envs      environment sessions (LabKind = 'env'), newest first (?page), each as its
 *                  `session` query (or, once done, its result) describes it
 */
import type { Client } from '@temporalio/client';
import type { EnvSessionView } from '../../../common/envSession.js';
import { LAB_TASK } from '../../../common/searchAttributes.js';
import { rootMessage } from '../../lib/runs.js';
import { envSessionQuery } from '../../../workflows/envSession.js';
import { envsPage, envStatus, type EnvRow } from '../pages/envs.js';
import type { ListedWorkflow } from '../workflowList.js';
import { pagedListRoute } from './pagedList.js';
import type { UiRoute } from './types.js';

/** An open session's state comes from a worker: a page does not wait long for one that is down. */
const QUERY_DEADLINE_MS = 3000;

const listRoute = pagedListRoute<EnvRow>({
  query: () => `LabKind = 'env'`,
  rowOf: envRow,
  render: (ctx, shown) => envsPage({ ...shown, temporalLink: ctx.temporalLink }),
});

export const ENV_ROUTES: UiRoute[] = [{ method: 'GET', path: /^\/envs\/?$/, handle: listRoute }];

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
