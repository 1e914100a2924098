/** `lab run`'s preflight: the check runs on the workers (where keys and the sandbox are), as a small workflow. */
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { TASK_QUEUES } from '../../common/queues.js';
import { preflight, type PreflightReport } from '../../workflows/preflight.js';

/** How long `lab run` waits for workers to answer before starting the run anyway. */
const WAIT_SECONDS = 20;

export async function runPreflight(client: Client, runId: string, model: string, checks: { sandbox: boolean; literature: boolean } = { sandbox: true, literature: true }): Promise<PreflightReport | 'no-worker'> {
  try {
    return await client.workflow.execute(preflight, {
      taskQueue: TASK_QUEUES.research,
      workflowId: `${runId}-preflight`,
      args: [{ model, ...checks, workerWaitSeconds: WAIT_SECONDS - 5 }],
      // With no research worker the check never starts; the run itself then checks first.
      workflowRunTimeout: `${WAIT_SECONDS}s`,
      staticSummary: `preflight for ${runId}`,
    });
  } catch (err) {
    if (err instanceof WorkflowFailedError && /timed? ?out/i.test(String(err.cause?.message ?? err.message))) return 'no-worker';
    throw err;
  }
}
