/** `lab status`: a run's state, printed once (or followed with --follow); the exit code says how it ended. */
import { z } from 'zod';
import { cliStore, locator } from '../lib/store.js';
import { booleanFlag, defineCommand, required } from '../lib/command.js';
import { EXIT, EXIT_CODES_HELP, runExitCode } from '../lib/exitCodes.js';
import { followRun } from '../lib/follow.js';
import { formatRun } from '../lib/format.js';
import { exitInterrupted, onInterrupt } from '../lib/interrupt.js';
import { runIdToFind } from '../lib/options.js';
import { print, printJson, withClient } from '../lib/output.js';
import { viewRun, type RunView } from '../lib/runs.js';
import { viewOtherWorkflow } from '../lib/otherWorkflows.js';
import { workflowType } from '../lib/client.js';

export const runIdPositional = required('missing run id (see `lab list`)', runIdToFind);

export const statusCommand = defineCommand({
  summary: 'show a run’s stages, timings, LLM calls, tokens, cost and pending gate (--follow: until it ends)',
  usage: `lab status <runId> [--follow] [--json]\n${EXIT_CODES_HELP}`,
  options: { follow: { type: 'boolean' }, once: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: ['runId'],
  schema: z
    .object({ runId: runIdPositional, follow: booleanFlag, once: booleanFlag, json: booleanFlag })
    .refine((a) => !(a.follow && a.once), { message: '--follow and --once contradict each other' }),
  async run({ runId, follow, json }) {
    const locate = locator(cliStore());
    return withClient(async ({ client }) => {
      const other = await viewOtherWorkflow(client, runId, await workflowType(client, runId));
      if (other) {
        if (json) printJson(other.json);
        else print(other.text);
        return other.exitCode;
      }
      // Without a worker the progress query cannot be answered; do not wait long for one.
      let view = await viewRun(client, runId, { queryTimeoutMs: 2000 });
      if (follow && view.execution === 'RUNNING') {
        const stop = onInterrupt(() => {
          process.stderr.write(`\nstopped following; run ${runId} goes on in Temporal\n`);
          exitInterrupted();
        });
        try {
          view = await followRun(client, runId, { locate, live: process.stdout.isTTY && !json, write: json ? () => {} : undefined });
        } finally {
          stop();
        }
      }
      if (json) printJson(view);
      else print(markStopped(formatRun(view, locate), view));
      return runExitCode(view);
    });
  },
});

/**
 * A run stopped from outside (lab cancel, --terminate, a timeout): the status line names the stage
 * it was in, and that stage reads cancelled (terminated, timed_out) instead of failed.
 */
export function markStopped(text: string, view: RunView): string {
  const { how, stage } = view.stopped ?? {};
  if (!how || !stage) return text;
  const failedRow = `✗ ${stage.padEnd(11)} ${'failed'.padEnd(17)}`;
  return text
    .split('\n')
    .map((line) => (line.startsWith(`status ${how} `) && !line.includes('(stage ') ? line.replace(`status ${how}`, `status ${how} (stage ${stage})`) : line.replace(failedRow, `■ ${stage.padEnd(11)} ${how.padEnd(17)}`)))
    .join('\n');
}
