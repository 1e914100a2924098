/**
 * `lab cancel <runId>`: stop a run. Cancellation reaches the activity in flight at its next
 * heartbeat, and the sandbox kills the experiment's processes; `--terminate` is the hard stop
 * (nothing in the workflow runs again). `lab resume` starts a new run from either.
 */
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { LAB_STAGE } from '../../common/searchAttributes.js';
import { CliError, explainNotFound } from '../lib/client.js';
import { booleanFlag, defineCommand } from '../lib/command.js';
import { print, printJson, withClient } from '../lib/output.js';
import { runIdPositional } from './status.js';

export interface Stopped {
  id: string;
  /** Temporal's status once closed (CANCELLED, TERMINATED), or RUNNING if it has not closed yet. */
  execution: string;
  /** The stage the run was in (its LabStage search attribute). */
  stage?: string;
}

/**
 * Cancels (or terminates) an open workflow and waits up to `waitMs` for it to close. An unknown id
 * or one that has already ended is one line, exit 1.
 */
export async function stopWorkflow(client: Client, id: string, o: { what: 'run' | 'benchmark'; terminate: boolean; waitMs?: number }): Promise<Stopped> {
  const handle = client.workflow.getHandle(id);
  const d = await handle.describe().catch((err) => explainNotFound(err, id, o.what));
  const ended = (status: string) => new CliError(`${o.what} "${id}" has already ended (${status.toLowerCase()}); nothing to cancel`);
  if (d.status.name !== 'RUNNING') throw ended(d.status.name);
  const stage = d.typedSearchAttributes.get(LAB_STAGE);
  try {
    if (o.terminate) await handle.terminate('lab cancel --terminate');
    else await handle.cancel();
  } catch (err) {
    // It closed between describe and the request ("workflow execution already completed"): say so as above.
    const now = (await handle.describe().catch(() => undefined))?.status.name;
    if (now && now !== 'RUNNING') throw ended(now);
    throw err;
  }
  const until = Date.now() + (o.waitMs ?? 60_000);
  let execution: string = d.status.name;
  // A cancelled workflow closes once it has handled the cancellation (a worker must be running).
  while (execution === 'RUNNING' && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 300));
    execution = (await handle.describe()).status.name;
  }
  return { id, execution, ...(stage ? { stage } : {}) };
}

/** What `lab cancel` and `lab bench cancel` print. */
export function reportStopped(s: Stopped, o: { what: 'run' | 'benchmark'; json: boolean }): void {
  if (o.json) return void printJson(s);
  if (s.execution === 'RUNNING') {
    return void print(`cancellation of ${o.what} ${s.id} requested; it has not closed yet (is \`lab worker\` running?): lab status ${s.id}`);
  }
  const at = s.stage && o.what === 'run' ? ` at ${s.stage}` : '';
  print(`${s.execution.toLowerCase()} ${o.what} ${s.id}${at}; resume it with: lab ${o.what === 'run' ? 'resume' : 'bench resume'} ${s.id}`);
}

export const cancelCommand = defineCommand({
  summary: 'cancel a run: the stage in flight stops and its sandboxed processes are killed (--terminate: hard stop)',
  usage:
    'lab cancel <runId> [--terminate] [--json]\n' +
    '  cancel        the run handles it: the activity in flight is cancelled at its next heartbeat (seconds),\n' +
    '                sandboxed processes are killed, and the run ends as cancelled at its stage\n' +
    '  --terminate   the hard stop: the run ends at once as terminated (activities learn it at their next heartbeat)\n' +
    'Exit 0 cancelled or terminated (or requested, if no worker handles it yet), 1 unknown run or already ended, 2 bad usage.\n' +
    'Either way, lab resume <runId> starts a new run that reuses the finished stages.',
  options: { terminate: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: ['runId'],
  schema: z.object({ runId: runIdPositional, terminate: booleanFlag, json: booleanFlag }),
  run: ({ runId, terminate, json }) =>
    withClient(async ({ client }) => reportStopped(await stopWorkflow(client, runId, { what: 'run', terminate }), { what: 'run', json })),
});
