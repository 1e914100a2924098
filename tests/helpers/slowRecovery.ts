/**
 * Activities whose loss would take long to notice: started on some worker, with a heartbeat
 * timeout longer than `limitMs` (or none). A worker killed while it runs one leaves it pending until
 * that timeout; a server killed while one completes may lose the completion for as long. Chaos
 * tests line kills up where this list is empty, so a kill costs seconds, not minutes.
 */
import type { Client } from '@temporalio/client';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';

const SCHEDULED = proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED;

export async function slowToRecoverActivities(client: Client, limitMs: number): Promise<string[]> {
  const out: string[] = [];
  for await (const wf of client.workflow.list({ query: `ExecutionStatus = 'Running'` })) {
    const d = await client.workflow.getHandle(wf.workflowId, wf.runId).describe();
    for (const a of d.raw.pendingActivities ?? []) {
      if (a.state === SCHEDULED) continue; // no worker holds it yet
      const heartbeatMs = optionalTsToMs(a.activityOptions?.heartbeatTimeout);
      if (heartbeatMs === undefined || heartbeatMs === 0 || heartbeatMs > limitMs) out.push(`${wf.workflowId}: ${a.activityType?.name ?? 'activity'}`);
    }
  }
  return out;
}
