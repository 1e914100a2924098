/** Asks at the terminal what to do with a stage waiting for review, while `lab run` follows the run. */
import readline from 'node:readline';
import type { Client } from '@temporalio/client';
import type { PendingGate, ReviewDecision } from '../../common/schemas.js';
import { decisionCommands, type LocateArtifact } from './format.js';
import { sendReview } from './runs.js';

export interface GatePrompter {
  decide(client: Client, runId: string, gate: PendingGate): Promise<void>;
  close(): void;
}

export function createGatePrompter(input: NodeJS.ReadableStream, output: NodeJS.WritableStream, locate: LocateArtifact): GatePrompter {
  const rl = readline.createInterface({ input, output, terminal: false });
  const lines = rl[Symbol.asyncIterator]();
  const ask = async (question: string): Promise<string | undefined> => {
    output.write(question);
    const next = await lines.next();
    return next.done ? undefined : String(next.value).trim();
  };
  return {
    async decide(client, runId, gate) {
      output.write(`\n${gate.stage} is ready for review: ${locate(gate.artifact)}\n`);
      for (;;) {
        const answer = (await ask('[a]pprove, [r]evise, re[j]ect, or Enter to leave it waiting: '))?.toLowerCase();
        if (!answer) {
          output.write(`left waiting; decide later with: ${decisionCommands(runId, gate.stage, gate.revisionsUsed)}\n`);
          return;
        }
        let decision: ReviewDecision | undefined;
        if (answer === 'a' || answer === 'approve') decision = { action: 'approve' };
        else if (answer === 'j' || answer === 'reject') decision = { action: 'reject' };
        else if (answer === 'r' || answer === 'revise') {
          const feedback = await ask('feedback (one line): ');
          if (!feedback) {
            output.write('revise needs feedback; try again\n');
            continue;
          }
          decision = { action: 'revise', feedback };
        } else {
          output.write(`"${answer}" is not one of a, r, j\n`);
          continue;
        }
        try {
          // The decision names the gate just shown, so it can never land on a later one.
          const outcome = await sendReview(client, runId, decision, { stage: gate.stage, revision: gate.revisionsUsed });
          output.write(`${outcome.action} ${outcome.stage}: ${outcome.next}\n`);
          return;
        } catch (err) {
          output.write(`${(err as Error).message}\n`);
          return;
        }
      }
    },
    close: () => rl.close(),
  };
}
