/**
 * A gate decision from the console's form, sent as the CLI sends it: `sendReview` with the gate
 * the page showed (stage and revision), exactly `lab <action> <run> --stage S --revision N`. The
 * run refuses it when that gate is no longer open, and the page shows the CLI's line for that.
 */
import type { Client } from '@temporalio/client';
import { reviewDecisionSchema, type ReviewDecision } from '../../common/schemas.js';
import { STAGES, type StageName } from '../../common/stages.js';
import { CliError } from '../lib/client.js';
import { NOT_APPLIED_YET, sendReview } from '../lib/runs.js';

export type DecisionResult =
  | { ok: true; line: string }
  /** `refused`: the run (or its gate) said no; `invalid`: the form was incomplete; `unavailable`: Temporal or a worker did not answer. */
  | { ok: false; why: 'refused' | 'invalid' | 'unavailable'; line: string };

const ACTIONS = ['approve', 'revise', 'reject'] as const;

/** `decider`: the name the console's token stands for, recorded with the decision in the run's history. */
export async function decideFromForm(client: Client, runId: string, form: URLSearchParams, decider: string): Promise<DecisionResult> {
  const action = form.get('action') ?? '';
  const stage = form.get('stage') ?? '';
  const revision = form.get('revision') ?? '';
  if (!(ACTIONS as readonly string[]).includes(action)) return { ok: false, why: 'invalid', line: `unknown decision "${action}" (approve, revise or reject)` };
  if (!(STAGES as readonly string[]).includes(stage) || !/^\d{1,4}$/.test(revision)) {
    return { ok: false, why: 'invalid', line: 'the form does not name the gate it decides (stage and revision); reload the page' };
  }
  const feedback = (form.get('feedback') ?? '').trim();
  if (action === 'revise' && !feedback) return { ok: false, why: 'invalid', line: 'revise needs feedback: say what to change in the feedback box' };
  const checked = reviewDecisionSchema.safeParse({ action, ...(feedback ? { feedback } : {}), by: decider });
  if (!checked.success) return { ok: false, why: 'invalid', line: `${action}: ${checked.error.issues[0].message}` };
  const decision: ReviewDecision = checked.data;
  try {
    const outcome = await sendReview(client, runId, decision, { stage: stage as StageName, revision: Number(revision) });
    // What `lab approve` prints on success.
    return { ok: true, line: `${outcome.action} ${outcome.stage}: ${outcome.next}` };
  } catch (err) {
    // The CLI prints `lab <action>: <message>`; the page says which decision it was the same way.
    if (err instanceof CliError && err.message.startsWith(NOT_APPLIED_YET)) return { ok: false, why: 'unavailable', line: `${action} ${err.message}` };
    if (err instanceof CliError) return { ok: false, why: 'refused', line: `${action} refused: ${err.message}` };
    return { ok: false, why: 'unavailable', line: `${action} failed: ${(err as Error).message.split('\n')[0]}` };
  }
}
