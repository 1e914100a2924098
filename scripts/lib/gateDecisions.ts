/**
 * Who decided at a run's gates and when, read from the run's history: each accepted `review`
 * update carries the decision (action, feedback, `by`) and the gate it named; its completion
 * says which stage it decided. A gate that timed out has no update: its decision is the
 * timeout's, recorded in the stage's feedback. Older decisions carry no name.
 */
import { defaultPayloadConverter } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import type { Client } from '@temporalio/client';
import type { ReviewDecision, ReviewOutcome } from '../../common/schemas.js';
import type { GateDecision } from '../../workflows/definitions.js';

const EventType = proto.temporal.api.enums.v1.EventType;

export interface RecordedDecision {
  at: Date;
  action: ReviewDecision['action'];
  /** The stage decided (from the update's outcome, else the gate the decision named). */
  stage?: string;
  /** The version decided, when the decision named it. */
  revision?: number;
  feedback?: string;
  /** Who, as the client recorded it; absent for decisions sent before names were recorded. */
  by?: string;
  /** What the run did next, in its own words. */
  next?: string;
}

export async function gateDecisions(client: Client, runId: string): Promise<RecordedDecision[]> {
  const accepted = new Map<string, RecordedDecision>();
  const decisions: RecordedDecision[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId: runId },
      nextPageToken,
    });
    for (const event of page.history?.events ?? []) {
      if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED) {
        const attrs = event.workflowExecutionUpdateAcceptedEventAttributes!;
        if (attrs.acceptedRequest?.input?.name !== 'review') continue;
        const payload = attrs.acceptedRequest.input.args?.payloads?.[0];
        const sent = payload ? (defaultPayloadConverter.fromPayload(payload) as GateDecision) : undefined;
        if (!sent) continue;
        const decision: RecordedDecision = {
          at: new Date(optionalTsToMs(event.eventTime) ?? 0),
          action: sent.action,
          ...(sent.gate ? { stage: sent.gate.stage, ...(sent.gate.revision !== undefined ? { revision: sent.gate.revision } : {}) } : {}),
          ...(sent.feedback ? { feedback: sent.feedback } : {}),
          ...(typeof sent.by === 'string' ? { by: sent.by } : {}),
        };
        accepted.set(attrs.acceptedRequest.meta?.updateId ?? attrs.protocolInstanceId ?? '', decision);
        decisions.push(decision);
      } else if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED) {
        const attrs = event.workflowExecutionUpdateCompletedEventAttributes!;
        const decision = accepted.get(attrs.meta?.updateId ?? '');
        const payload = attrs.outcome?.success?.payloads?.[0];
        if (!decision || !payload) continue;
        const outcome = defaultPayloadConverter.fromPayload(payload) as ReviewOutcome;
        decision.stage = outcome.stage;
        decision.next = outcome.next;
      }
    }
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return decisions;
}
