/**
 * Episodes from stored step records, and the two export formats made from them. Pure, apart from
 * the two readers at the end: workflow look-ups (task, model, outcome) happen in sources.ts.
 */
import path from 'node:path';
import { z } from 'zod';
import type { ArtifactStore } from '../../../activities/artifacts.js';
import { EXPERIMENT_SYSTEM } from '../../../activities/experiment/prompts.js';
import {
  envStepRecordSchema,
  experimentStepRecordSchema,
  type EnvStepRecord,
  type ExperimentStepRecord,
  type Outcome,
  type SftSample,
  type StepTransition,
  type TrajectoryMetadata,
  type TrajectorySource,
} from './schema.js';

const jsonSchema = z.json();
export type Json = z.output<typeof jsonSchema>;

/** What the workflow says about an episode (sources.ts). */
export interface EpisodeInfo {
  source: TrajectorySource;
  runId: string;
  benchId?: string;
  task: string;
  model: string | null;
  outcome: Outcome;
  end?: string;
  /** research and competition: the reward the last step carries when the episode is over. */
  finalReward?: number;
  final_score?: number;
  relative_improvement?: number;
  normalised?: number;
}

export interface EpisodeStep {
  step: number;
  /** The sft user turn: the stored prompt, or for env sessions one built from the previous observation; undefined when none is stored. */
  user?: string;
  /** The sft assistant turn: the JSON the model replied with. */
  assistant: string;
  thought?: string;
  action: Json;
  observation: Json | null;
  nextObservation: Json;
  reward: number;
  done: boolean;
}

export interface Episode {
  info: EpisodeInfo;
  system: string;
  steps: EpisodeStep[];
}

/** A step record that cannot be read: the episode is skipped (its transitions would be wrong). */
export class StepRecordError extends Error {}

/** Research and competition runs: the experiment loop's records and prompts. */
export function experimentEpisode(info: EpisodeInfo, records: ExperimentStepRecord[], prompts: Map<number, string>): Episode {
  const over = info.outcome !== 'unfinished' && info.outcome !== 'aborted';
  const steps = records.map((r, i): EpisodeStep => {
    const last = i === records.length - 1;
    return {
      step: r.step,
      user: prompts.get(r.step),
      // The shape the agent was asked to reply in (activities/experiment/agent.ts).
      assistant: JSON.stringify({ thought: r.thought ?? '', action: r.action }),
      ...(r.thought ? { thought: r.thought } : {}),
      action: r.action as Json,
      observation: i > 0 ? (records[i - 1].observation as Json) : null,
      nextObservation: r.observation as Json,
      reward: last && over ? (info.finalReward ?? 0) : 0,
      done: last && over,
    };
  });
  return { info, system: EXPERIMENT_SYSTEM, steps };
}

/** The system turn of env-session samples: no model prompt is stored for them, so this one is ours. */
export function envSystemPrompt(task: string): string {
  return (
    `You are an agent in a Durable Lab environment session for the task "${task}". ` +
    'Each turn you see the observation your last action produced and reply with exactly one action as a JSON object.'
  );
}

/** The observation's text (what a Gym client shows an agent), or its JSON when it has none. */
function renderObservation(observation: Json): string {
  if (typeof observation === 'string') return observation;
  const text = observation && typeof observation === 'object' && !Array.isArray(observation) ? observation.text : undefined;
  return typeof text === 'string' && text.trim() ? text : JSON.stringify(observation, null, 2);
}

const isReset = (r: EnvStepRecord) =>
  r.step === 0 || r.action == null || r.action === 'reset' || (typeof r.action === 'object' && !Array.isArray(r.action) && r.action.action === 'reset');

/**
 * Env sessions: rewards and done come from the records as the environment set them. The user turn
 * of step k is the observation of step k−1 (or of the reset), rendered as text.
 */
export function envEpisode(base: Omit<EpisodeInfo, 'outcome' | 'task'> & { task?: string; closed: boolean }, records: EnvStepRecord[]): Episode {
  const sorted = [...records].sort((a, b) => a.step - b.step);
  const reset = sorted.find(isReset);
  const moves = sorted.filter((r) => !isReset(r));
  const task = base.task ?? sorted[0]?.task ?? 'unknown';
  let previous: EnvStepRecord | undefined = reset;
  const steps = moves.map((r): EpisodeStep => {
    if (typeof r.reward !== 'number') throw new StepRecordError(`env step ${r.step} has no reward`);
    const user = !previous
      ? `The session for task "${task}" has just been reset (no reset observation is stored). Choose your first action.`
      : previous === reset
        ? `Observation after reset:\n${renderObservation(previous.observation)}`
        : `Observation after step ${previous.step} (reward ${previous.reward}):\n${renderObservation(previous.observation)}`;
    const step: EpisodeStep = {
      step: r.step,
      user,
      assistant: JSON.stringify(r.action),
      action: r.action as Json,
      observation: previous ? previous.observation : null,
      nextObservation: r.observation,
      reward: r.reward,
      done: r.done,
    };
    previous = r;
    return step;
  });
  const last = moves.at(-1);
  const final = last?.done ? finalOfInfo(last.info ?? {}) : {};
  const outcome: Outcome = last?.done ? (final.status ?? 'done') : base.closed ? 'aborted' : 'unfinished';
  const { closed: _closed, status: _status, ...rest } = { ...base, ...final };
  return { info: { ...rest, task, outcome }, system: envSystemPrompt(task), steps };
}

/**
 * The env's final score from the done step's info (common/envSession.ts StepInfo: flat fields, or
 * a SubmissionScore under `score`). A dev-split score is no final score (a session that ran out of
 * steps after an execute_code ends on one).
 */
function finalOfInfo(info: Record<string, Json>): Pick<EpisodeInfo, 'final_score' | 'relative_improvement' | 'normalised'> & { status?: Outcome } {
  const nested = info.score && typeof info.score === 'object' && !Array.isArray(info.score) ? (info.score as Record<string, Json>) : undefined;
  const num = (v: Json | undefined) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const status = nested?.status ?? info.status;
  if ((nested?.split ?? info.split) === 'dev') return {};
  return {
    ...defined('final_score', num(nested ? nested.score : info.score)),
    ...defined('relative_improvement', num(nested?.relativeImprovement ?? info.relativeImprovement)),
    ...defined('normalised', num(nested?.normalised ?? info.normalised)),
    ...(status === 'failed' || status === 'invalid' ? { status } : {}),
  };
}

function defined<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

function metadata(episode: Episode, step: EpisodeStep): TrajectoryMetadata {
  const { info } = episode;
  return {
    source: info.source,
    task: info.task,
    model: info.model,
    runId: info.runId,
    ...(info.benchId ? { benchId: info.benchId } : {}),
    step: step.step,
    episode_steps: episode.steps.length,
    outcome: info.outcome,
    episode_return: episode.steps.reduce((sum, s) => sum + s.reward, 0),
    ...defined('final_score', info.final_score),
    ...defined('relative_improvement', info.relative_improvement),
    ...defined('normalised', info.normalised),
    ...(info.end ? { end: info.end } : {}),
  };
}

/** One chat sample per step that has a user turn; the rest are counted as skipped by the caller. */
export function sftSamples(episode: Episode): SftSample[] {
  return episode.steps
    .filter((s) => s.user)
    .map((s) => ({
      messages: [
        { role: 'system', content: episode.system },
        { role: 'user', content: s.user! },
        { role: 'assistant', content: s.assistant },
      ],
      metadata: metadata(episode, s),
    }));
}

export function transitions(episode: Episode): StepTransition[] {
  return episode.steps.map((s) => ({
    observation: s.observation,
    action: s.action,
    reward: s.reward,
    next_observation: s.nextObservation,
    done: s.done,
    metadata: { ...metadata(episode, s), ...(s.thought ? { thought: s.thought } : {}) },
  }));
}

const STEP_FILE = /^(\d+)\.json$/;

/**
 * A run's experiment step records and their `experiment/steps/NNN-prompt.md`, read through the
 * artifact store. The records are read from `experiment/transcript.jsonl` (the same records as
 * `steps/NNN.json`, of the latest revision only: a revised experiment leaves step files of a longer
 * earlier revision behind), else from the step files. Empty when there are none.
 */
export async function readExperimentSteps(store: ArtifactStore, runId: string): Promise<{ records: ExperimentStepRecord[]; prompts: Map<number, string> }> {
  const transcript = (await store.readRunFile(runId, 'experiment/transcript.jsonl'))?.toString('utf8');
  let raw: unknown[];
  if (transcript?.trim()) raw = transcript.split('\n').filter((l) => l.trim()).map((l, i) => parseJson(l, `experiment/transcript.jsonl line ${i + 1}`));
  else raw = await readStepFiles(store, runId, 'experiment/steps/');
  const records = raw.map((r) => checked(experimentStepRecordSchema, r, 'experiment step record')).sort((a, b) => a.step - b.step);
  const prompts = new Map<number, string>();
  await Promise.all(
    records.map(async (r) => {
      const prompt = (await store.readRunFile(runId, `experiment/steps/${String(r.step).padStart(3, '0')}-prompt.md`))?.toString('utf8');
      if (prompt?.trim()) prompts.set(r.step, prompt);
    }),
  );
  return { records, prompts };
}

/** A session's `env/steps/NNN.json`, read through the artifact store; empty when there are none. */
export async function readEnvSteps(store: ArtifactStore, sessionId: string): Promise<EnvStepRecord[]> {
  const raw = await readStepFiles(store, sessionId, 'env/steps/');
  return raw.map((r) => checked(envStepRecordSchema, r, 'env step record')).sort((a, b) => a.step - b.step);
}

/** The `NNN.json` records right under `folder` of a run, parsed. */
async function readStepFiles(store: ArtifactStore, runId: string, folder: string): Promise<unknown[]> {
  const names = (await store.listRun(runId)).map((f) => f.name).filter((n) => n.startsWith(folder) && STEP_FILE.test(n.slice(folder.length)));
  return Promise.all(
    names.map(async (name) => parseJson((await store.readRunFile(runId, name))?.toString('utf8') ?? '', path.posix.basename(name))),
  );
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new StepRecordError(`${where} is not JSON (${(err as Error).message})`);
  }
}

function checked<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const step = (value as { step?: unknown })?.step;
    throw new StepRecordError(`${what}${typeof step === 'number' ? ` ${step}` : ''} is malformed: ${issue.path.join('.') || '(record)'}: ${issue.message}`);
  }
  return result.data;
}
