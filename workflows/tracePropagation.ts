/**
 * Workflow interceptors bundled when tracing is on (workers/tracing.ts): they pass the trace
 * context the client sent with the workflow on to every activity, child workflow, signal and
 * continue-as-new it starts, so their spans join the run's trace on whichever host runs them.
 *
 * Only headers are touched, and synchronously. The OpenTelemetry package's own workflow
 * interceptors also wrap the workflow, its handlers and each activity's result in spans, which
 * delays promise resolution by a few microtasks: a gated run whose update arrived beside a stage's
 * end then issued its commands in another order, and runs recorded without tracing failed to
 * replay with it (tests/replay.test.ts). Headers are not part of what replay compares.
 */
import type { Payload } from '@temporalio/common';
import type { WorkflowInterceptorsFactory } from '@temporalio/workflow';

/** The header the OpenTelemetry client and activity interceptors write and read (`traceparent` inside). */
export const TRACE_HEADER = '_tracer-data';

export const interceptors: WorkflowInterceptorsFactory = () => {
  let trace: Payload | undefined;
  const withTrace = <T extends { headers: Record<string, Payload> }>(input: T): T =>
    trace && !input.headers[TRACE_HEADER] ? { ...input, headers: { ...input.headers, [TRACE_HEADER]: trace } } : input;
  return {
    inbound: [
      {
        execute(input, next) {
          trace = input.headers[TRACE_HEADER];
          return next(input);
        },
      },
    ],
    outbound: [
      {
        scheduleActivity: (input, next) => next(withTrace(input)),
        scheduleLocalActivity: (input, next) => next(withTrace(input)),
        startChildWorkflowExecution: (input, next) => next(withTrace(input)),
        signalWorkflow: (input, next) => next(withTrace(input)),
        continueAsNew: (input, next) => next(withTrace(input)),
      },
    ],
  };
};
