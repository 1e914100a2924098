/**
 * What a log line of an activity says about its run: the lab's run id and the research stage, read
 * from the activity's input where it carries them (`runStage` has both), added to every line the
 * activity and the SDK log for it ("Activity failed" included). Without them a line names only the
 * Temporal workflow, which for an experiment is a child of the run.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** The `runId` and `stage` of an activity's first argument, when it is an object that has them as strings. */
export function runContextOf(args: readonly unknown[]): { labRunId?: string; stage?: string } {
  const first = args[0];
  if (!first || typeof first !== 'object') return {};
  const { runId, stage } = first as { runId?: unknown; stage?: unknown };
  return {
    ...(typeof runId === 'string' && runId ? { labRunId: runId } : {}),
    ...(typeof stage === 'string' && stage ? { stage } : {}),
  };
}

export const runContextLogInterceptor: ActivityInterceptorsFactory = () => {
  let context: ReturnType<typeof runContextOf> = {};
  return {
    inbound: {
      execute(input, next) {
        context = runContextOf(input.args);
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(attributes, next) {
        return next({ ...attributes, ...context });
      },
    },
  };
};
