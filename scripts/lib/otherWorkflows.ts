/**
 * `lab status` and `lab show` are about research runs; given the id of another lab workflow, they
 * say what it is and where it stands instead of showing empty research stages.
 */
import type { Client } from '@temporalio/client';
import type { CompetitionRunResult } from '../../common/competition.js';
import { EXIT } from './exitCodes.js';
import { rootMessage } from './runs.js';
import { runLink } from './uiLink.js';

/** Where to look for each kind of workflow. */
const COMMAND_FOR: Record<string, string> = {
  review: 'lab judge (the review\'s judges are in its result)',
  benchmark: 'lab bench status',
  benchItem: 'lab bench status <benchId>',
  envSession: 'GET /sessions/<id> on lab env serve',
  experimentRun: 'lab status <its research run> (the id without -experiment)',
};

/** A view of a non-research workflow, or undefined for a research run. */
export async function viewOtherWorkflow(client: Client, id: string, type: string): Promise<{ text: string; exitCode: number; json: unknown } | undefined> {
  if (type === 'researchRun') return undefined;
  const handle = client.workflow.getHandle(id);
  const d = await handle.describe();
  const status = d.status.name;
  if (type === 'competitionRun') {
    if (status === 'RUNNING') return { text: `competition run ${id}: running\n  UI ${runLink(id)}`, exitCode: EXIT.ok, json: { id, status } };
    if (status !== 'COMPLETED') {
      const failure = await handle.result().then(() => '', (err) => rootMessage(err));
      return { text: `competition run ${id}: ${status.toLowerCase()}: ${failure}\n  UI ${runLink(id)}`, exitCode: EXIT.runFailed, json: { id, status, failure } };
    }
    const result = (await handle.result()) as CompetitionRunResult;
    const s = result.score;
    const lines = [
      `competition run ${id}: ${s.status}${s.reason ? ` (${s.reason})` : ''}`,
      `  task      ${result.task}, model ${result.model}, ${result.experiment.steps} steps (${result.experiment.end})`,
      ...(s.score !== undefined
        ? [`  score     ${s.metric.name} ${s.score.toFixed(4)} on the hidden test split (${s.metric.direction} is better; baseline ${s.baseline.toFixed(4)}, reference ${s.reference.toFixed(4)})`,
           `  improved  ${s.relativeImprovement?.toFixed(1)}% of the baseline-to-reference gap${s.success ? ' (a success)' : ''}; ${s.linesChanged} lines changed in methods/; scored in ${s.runtimeSeconds.toFixed(1)} s`]
        : []),
      `  write-up  ${result.documents.paper?.path ?? '-'} (under the artifact folder)`,
      `  UI        ${runLink(id)}`,
    ];
    // A measured outcome, whatever it was: the run itself did what it should.
    return { text: lines.join('\n'), exitCode: EXIT.ok, json: { id, status, result } };
  }
  const where = COMMAND_FOR[type] ?? 'the Temporal UI';
  return { text: `${id} is a ${type} workflow (${status.toLowerCase()}), not a research run: see ${where}\n  UI ${runLink(id)}`, exitCode: EXIT.usage, json: { id, type, status } };
}
