/**
 * `lab approve`, `lab revise`, `lab reject`: decide the gate a run is waiting at. `--stage` (and
 * `--revision` after a revise) name the gate the decision answers, as `lab status` showed it; the
 * run refuses a decision for a gate that is no longer open.
 */
import { z } from 'zod';
import type { ReviewDecision } from '../../common/schemas.js';
import { STAGES } from '../../common/stages.js';
import type { GateRef } from '../../workflows/definitions.js';
import { booleanFlag, defineCommand, flag, required } from '../lib/command.js';
import { nonEmptyText, oneOf, wholeNumber } from '../lib/options.js';
import { print, printJson, withClient } from '../lib/output.js';
import { sendReview } from '../lib/runs.js';
import { runIdPositional } from './status.js';
import { reviewerName } from '../lib/reviewer.js';

/** `alice (lab approve)`: who typed the decision, as the run's history records it. */
function cliReviewer(action: ReviewDecision['action']): string {
  return `${reviewerName()} (lab ${action})`;
}

async function review(runId: string, decision: ReviewDecision, gate: GateRef | undefined, asJson: boolean): Promise<void> {
  const outcome = await withClient(({ client }) => sendReview(client, runId, { ...decision, by: cliReviewer(decision.action) }, gate));
  if (asJson) printJson({ runId, ...outcome });
  else print(`${outcome.action} ${outcome.stage}: ${outcome.next}`);
}

const gateOptions = { stage: { type: 'string' }, revision: { type: 'string' } } as const;
const gateFields = { stage: flag(oneOf('--stage', STAGES)), revision: flag(wholeNumber('--revision', 0, 1000)) };
const GATE_USAGE = '[--stage STAGE [--revision N]]';
const GATE_HELP =
  '\n  --stage STAGE   the gate you decide, as lab status shows it; refused if that gate is no longer open\n' +
  '  --revision N    its version: 0 the first, N after N revisions (omitted: any version of that stage)\n' +
  'Without --stage: a run that gates one stage is decided at the version open now; a run that gates\n' +
  'several is refused (exit 2) with the open gate named, since a decision could otherwise land on a gate you did not see.';

function gateOf(a: { stage?: (typeof STAGES)[number]; revision?: number }): GateRef | undefined {
  return a.stage ? { stage: a.stage, ...(a.revision !== undefined ? { revision: a.revision } : {}) } : undefined;
}

function withGateRule<T extends z.ZodType<{ stage?: string; revision?: number }>>(schema: T) {
  return schema.refine((a) => a.revision === undefined || a.stage !== undefined, { message: '--revision needs --stage (the gate it is a version of)' });
}

/** `approve` and `reject`: a run id, the gate, and optional feedback. */
function gateCommand(action: 'approve' | 'reject', summary: string) {
  return defineCommand({
    summary,
    usage: `lab ${action} <runId> ${GATE_USAGE} [--feedback TEXT] [--json]${GATE_HELP}`,
    options: { ...gateOptions, feedback: { type: 'string' }, json: { type: 'boolean' } },
    positionals: ['runId'],
    schema: withGateRule(z.object({ runId: runIdPositional, ...gateFields, feedback: flag(nonEmptyText('--feedback')), json: booleanFlag })),
    run: (a) => review(a.runId, { action, feedback: a.feedback }, gateOf(a), a.json),
  });
}

export const approveCommand = gateCommand('approve', 'approve the stage waiting for review; the run continues');
export const rejectCommand = gateCommand('reject', 'reject the stage waiting for review; the run ends as rejected, artifacts kept');

export const reviseCommand = defineCommand({
  summary: 'send the stage waiting for review back with feedback; it runs again',
  usage: `lab revise <runId> ${GATE_USAGE} --feedback TEXT [--json]${GATE_HELP}`,
  options: { ...gateOptions, feedback: { type: 'string' }, json: { type: 'boolean' } },
  positionals: ['runId'],
  schema: withGateRule(
    z.object({
      runId: runIdPositional,
      ...gateFields,
      feedback: required('revise needs --feedback "what to change"', (v) => {
        if (!v.trim()) throw new Error('revise needs --feedback "what to change"');
        return v.trim();
      }),
      json: booleanFlag,
    }),
  ),
  run: (a) => review(a.runId, { action: 'revise', feedback: a.feedback }, gateOf(a), a.json),
});
