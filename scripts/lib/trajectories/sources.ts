/**
 * What Temporal knows about the episodes behind an id: a research run, a competition run, an
 * environment session, or a benchmark's children. Task and model come from the search attributes
 * (or the result), the outcome from the memo (research) or the scorer's result (competition).
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import type { SubmissionScore } from '../../../common/competition.js';
import type { RunMemo } from '../../../common/schemas.js';
import { LAB_MODEL, LAB_TASK } from '../../../common/searchAttributes.js';
import { CliError } from '../client.js';
import type { TrajectorySource } from './schema.js';
import type { EpisodeInfo } from './episodes.js';

/** Workflow types that hold step records. */
/** What a describe() or a list() gives for a workflow, as far as export needs it. */
type Execution = Pick<WorkflowExecutionInfo, 'type' | 'workflowId' | 'runId' | 'status' | 'typedSearchAttributes' | 'memo' | 'startTime'>;

const SOURCE_OF_TYPE: Record<string, TrajectorySource> = { researchRun: 'research', competitionRun: 'competition', envSession: 'env' };

export interface EpisodeRef {
  source: TrajectorySource;
  runId: string;
  benchId?: string;
  /** Temporal's status: RUNNING, COMPLETED, FAILED... */
  execution: string;
  task?: string;
  model: string | null;
  /** research/competition: everything but the steps; env: worked out from the records. */
  info?: EpisodeInfo;
}

export interface Resolved {
  kind: 'run' | 'benchmark';
  refs: EpisodeRef[];
}

/** The episodes `id` names; CliError: exit 1 for an unknown id (as every command), 2 for a workflow lab export cannot read. */
export async function resolveEpisodes(client: Client, id: string): Promise<Resolved> {
  let d: Execution;
  try {
    d = await client.workflow.getHandle(id).describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError || /not found/i.test((err as Error)?.message ?? '')) {
      throw new CliError(`no run, environment session or benchmark with id "${id}" (see \`lab list\`)`, 1);
    }
    throw err;
  }
  if (d.type === 'benchmark') {
    const refs: EpisodeRef[] = [];
    for (const w of await benchChildren(client, id)) {
      if (SOURCE_OF_TYPE[w.type]) refs.push(await episodeRef(client, w, id));
    }
    return { kind: 'benchmark', refs };
  }
  if (!SOURCE_OF_TYPE[d.type]) {
    const hint = d.type === 'experimentRun' ? ` (export the run it belongs to${id.endsWith('-experiment') ? `: ${id.slice(0, -'-experiment'.length)}` : ''})` : '';
    throw new CliError(`"${id}" is a ${d.type} workflow: lab export reads research runs, competition runs, environment sessions and benchmarks${hint}`, 2);
  }
  return { kind: 'run', refs: [await episodeRef(client, d)] };
}

/** The latest execution of each workflow of a benchmark. */
async function benchChildren(client: Client, benchId: string): Promise<WorkflowExecutionInfo[]> {
  const latest = new Map<string, WorkflowExecutionInfo>();
  const quoted = benchId.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  for await (const w of client.workflow.list({ query: `LabBench = '${quoted}' AND WorkflowType != 'benchmark'` })) {
    const seen = latest.get(w.workflowId);
    if (!seen || seen.startTime < w.startTime) latest.set(w.workflowId, w);
  }
  return [...latest.values()].sort((a, b) => a.workflowId.localeCompare(b.workflowId));
}

async function episodeRef(client: Client, w: Execution, benchId?: string): Promise<EpisodeRef> {
  const source = SOURCE_OF_TYPE[w.type];
  const ref: EpisodeRef = {
    source,
    runId: w.workflowId,
    ...(benchId ? { benchId } : {}),
    execution: w.status.name,
    task: w.typedSearchAttributes.get(LAB_TASK),
    model: w.typedSearchAttributes.get(LAB_MODEL) ?? null,
  };
  if (source === 'research') ref.info = researchInfo(ref, ((await w.memo) ?? {}) as Partial<RunMemo>);
  if (source === 'competition') ref.info = await competitionInfo(client, ref, w);
  return ref;
}

const base = (ref: EpisodeRef): Omit<EpisodeInfo, 'outcome'> => ({
  source: ref.source,
  runId: ref.runId,
  ...(ref.benchId ? { benchId: ref.benchId } : {}),
  task: ref.task ?? 'unknown',
  model: ref.model,
});

const unfinished = (ref: EpisodeRef) => (ref.execution === 'RUNNING' ? 'unfinished' : 'aborted');

/**
 * Research runs have no objective score. The experiment's own check (the code ran and wrote
 * measured results) is the only outcome: reward 1 when it succeeded, 0 when it failed.
 */
function researchInfo(ref: EpisodeRef, memo: Partial<RunMemo>): EpisodeInfo {
  const check = memo.completed?.experiment?.checks?.experiment;
  if (!check) return { ...base(ref), outcome: unfinished(ref) };
  return { ...base(ref), outcome: check.status, end: check.end, finalReward: check.status === 'succeeded' ? 1 : 0 };
}

/** Competition runs: the hidden test split's score; reward = normalised (relative improvement / 100), 0 for failed or invalid submissions. */
async function competitionInfo(client: Client, ref: EpisodeRef, w: Execution): Promise<EpisodeInfo> {
  if (w.status.name !== 'COMPLETED') return { ...base(ref), outcome: unfinished(ref) };
  const result = (await client.workflow.getHandle(w.workflowId, w.runId).result()) as { task?: string; model?: string; score?: SubmissionScore; experiment?: { end?: string } };
  const info = { ...base(ref), task: ref.task ?? result.task ?? 'unknown', model: ref.model ?? result.model ?? null };
  const score = result.score;
  if (!score || !['scored', 'failed', 'invalid'].includes(score.status)) return { ...info, outcome: 'aborted' };
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const ri = num(score.relativeImprovement);
  const normalised = num(score.normalised) ?? (ri === undefined ? undefined : ri / 100);
  return {
    ...info,
    outcome: score.status,
    ...(result.experiment?.end ? { end: result.experiment.end } : {}),
    finalReward: score.status === 'scored' ? (normalised ?? 0) : 0,
    ...(num(score.score) !== undefined ? { final_score: score.score } : {}),
    ...(ri !== undefined ? { relative_improvement: ri } : {}),
    ...(normalised !== undefined ? { normalised } : {}),
  };
}
