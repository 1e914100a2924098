/** `lab resume`: a new run from a failed, cancelled, terminated or out-of-budget one, reusing its finished stages. */
import { z } from 'zod';
import { cliStore, locator } from '../lib/store.js';
import { booleanFlag, defineCommand, flag } from '../lib/command.js';
import { EXIT, EXIT_CODES_HELP, runExitCode } from '../lib/exitCodes.js';
import { followRun } from '../lib/follow.js';
import { formatRun } from '../lib/format.js';
import { exitInterrupted, onInterrupt } from '../lib/interrupt.js';
import { modelSpec } from '../lib/options.js';
import { print, printJson, withClient } from '../lib/output.js';
import { resumeRun } from '../lib/runs.js';
import { runLink } from '../lib/uiLink.js';
import { budgetOf, budgetOptions } from './run.js';
import { runIdPositional } from './status.js';

export const resumeCommand = defineCommand({
  summary: 'start a new run from a failed, cancelled, terminated or out-of-budget run, reusing its finished stages',
  usage: `lab resume <runId> [--budget-usd N] [--max-tokens N] [--model SPEC] [--detach] [--json]\n${EXIT_CODES_HELP}`,
  options: { 'budget-usd': { type: 'string' }, 'max-tokens': { type: 'string' }, model: { type: 'string' }, detach: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: ['runId'],
  schema: z.object({ runId: runIdPositional, ...budgetOptions, model: flag(modelSpec('--model')), detach: booleanFlag, json: booleanFlag }),
  async run(a) {
    // `auto` goes to the run as it is: a worker chooses from its own keys (the CLI may have none).
    const model = a.model;
    return withClient(async ({ client }) => {
      const resumed = await resumeRun(client, a.runId, { budget: budgetOf(a), model });
      const link = runLink(resumed.workflowId);
      if (a.json && a.detach) return void printJson({ runId: resumed.workflowId, resumedFrom: a.runId, reused: resumed.reused, ui: link });
      if (!a.json) print(`resumed ${a.runId} as ${resumed.workflowId}; reusing ${resumed.reused.join(', ') || 'no stages'}\n  UI ${link}`);
      if (a.detach) return EXIT.ok;
      const stop = onInterrupt(() => {
        process.stderr.write(`\nstopped following; run ${resumed.workflowId} goes on in Temporal: lab status ${resumed.workflowId} --follow\n`);
        exitInterrupted();
      });
      try {
        const view = await followRun(client, resumed.workflowId, { locate: locator(cliStore()), write: a.json ? () => {} : undefined });
        if (a.json) printJson(view);
        else print(formatRun(view, locator(cliStore())));
        return runExitCode(view);
      } finally {
        stop();
      }
    });
  },
});
