/** `lab approve`, `lab revise`, `lab reject`: decide the gate a run is waiting at. */
import { z } from 'zod';
import type { ReviewDecision } from '../../common/schemas.js';
import { booleanFlag, defineCommand, flag, required } from '../lib/command.js';
import { nonEmptyText } from '../lib/options.js';
import { print, printJson, withClient } from '../lib/output.js';
import { sendReview } from '../lib/runs.js';
import { runIdPositional } from './status.js';

async function review(runId: string, decision: ReviewDecision, asJson: boolean): Promise<void> {
  const outcome = await withClient(({ client }) => sendReview(client, runId, decision));
  if (asJson) printJson({ runId, ...outcome });
  else print(`${outcome.action} ${outcome.stage}: ${outcome.next}`);
}

/** `approve` and `reject`: a run id and optional feedback. */
function gateCommand(action: 'approve' | 'reject', summary: string) {
  return defineCommand({
    summary,
    usage: `lab ${action} <runId> [--feedback TEXT] [--json]`,
    options: { feedback: { type: 'string' }, json: { type: 'boolean' } },
    positionals: ['runId'],
    schema: z.object({ runId: runIdPositional, feedback: flag(nonEmptyText('--feedback')), json: booleanFlag }),
    run: ({ runId, feedback, json }) => review(runId, { action, feedback }, json),
  });
}

export const approveCommand = gateCommand('approve', 'approve the stage waiting for review; the run continues');
export const rejectCommand = gateCommand('reject', 'reject the stage waiting for review; the run ends as rejected, artifacts kept');

export const reviseCommand = defineCommand({
  summary: 'send the stage waiting for review back with feedback; it runs again',
  usage: 'lab revise <runId> --feedback TEXT [--json]',
  options: { feedback: { type: 'string' }, json: { type: 'boolean' } },
  positionals: ['runId'],
  schema: z.object({
    runId: runIdPositional,
    feedback: required('revise needs --feedback "what to change"', (v) => {
      if (!v.trim()) throw new Error('revise needs --feedback "what to change"');
      return v.trim();
    }),
    json: booleanFlag,
  }),
  run: ({ runId, feedback, json }) => review(runId, { action: 'revise', feedback }, json),
});
