/**
 * Trajectory export (`lab export`): the stored step records of research runs, competition runs
 * and environment sessions as JSONL for fine-tuning (`sft`) or RL / inverse RL (`steps`). Every
 * record is sanitised, then checked against its schema, before it is written.
 * Formats and reward rules: docs/trajectories.md.
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { ArtifactStore } from '../../activities/artifacts.js';
import { isValidRunId } from '../../common/runIds.js';
import { CliError } from './client.js';
import { envEpisode, experimentEpisode, readEnvSteps, readExperimentSteps, sftSamples, StepRecordError, transitions, type Episode } from './trajectories/episodes.js';
import { createSanitiser, type Sanitiser } from './trajectories/sanitise.js';
import { GOOD_OUTCOMES, sftSampleSchema, stepTransitionSchema, type ExportFormat } from './trajectories/schema.js';
import { resolveEpisodes, type EpisodeRef } from './trajectories/sources.js';

export * from './trajectories/schema.js';
export { createSanitiser, labPaths, type Sanitiser, type SanitiserOptions } from './trajectories/sanitise.js';
export { envEpisode, envSystemPrompt, experimentEpisode, sftSamples, transitions, type Episode, type EpisodeInfo } from './trajectories/episodes.js';

export interface ExportOptions {
  format: ExportFormat;
  /** The artifact store the workers write to (the step records are read through it). */
  store: ArtifactStore;
  /** Also export episodes that failed, were aborted or are still running. */
  includeFailed?: boolean;
  sanitise?: Sanitiser;
}

export interface ExportResult {
  /** One JSON document per line, sanitised and valid. */
  lines: string[];
  episodes: number;
  steps: number;
  skippedEpisodes: Array<{ runId: string; reason: string }>;
  /** Steps left out of exported episodes, with why (sft: no stored prompt; any: failed its schema). */
  skippedSteps: Array<{ runId: string; step: number; reason: string }>;
}

/** Reads every episode `id` names; throws CliError: exit 1 for an unknown id or nothing to export, 2 for a workflow it cannot read. */
export async function exportTrajectories(client: Client, id: string, options: ExportOptions): Promise<ExportResult> {
  const { kind, refs } = await resolveEpisodes(client, id);
  const sanitise = options.sanitise ?? createSanitiser();
  const out: ExportResult = { lines: [], episodes: 0, steps: 0, skippedEpisodes: [], skippedSteps: [] };
  let withRecords = 0;
  for (const ref of refs) {
    let episode: Episode | undefined;
    try {
      episode = await loadEpisode(ref, options.store);
    } catch (err) {
      if (!(err instanceof StepRecordError)) throw err;
      withRecords++;
      out.skippedEpisodes.push({ runId: ref.runId, reason: err.message });
      continue;
    }
    if (!episode) {
      if (kind === 'benchmark') out.skippedEpisodes.push({ runId: ref.runId, reason: 'no step records' });
      continue;
    }
    withRecords++;
    if (!options.includeFailed && !GOOD_OUTCOMES.includes(episode.info.outcome)) {
      out.skippedEpisodes.push({ runId: ref.runId, reason: `${episode.info.outcome} (--include-failed exports it)` });
      continue;
    }
    const before = out.lines.length;
    appendRecords(episode, options.format, sanitise, out);
    if (out.lines.length > before) out.episodes++;
  }
  if (!withRecords) {
    throw new CliError(
      kind === 'benchmark'
        ? `benchmark "${id}" has no step records (${refs.length} runs or sessions, none with steps)`
        : `"${id}" has no step records (nothing under runs/${id}/${refs[0].source === 'env' ? 'env' : 'experiment'}/steps/ in ${options.store.location})`,
      1,
    );
  }
  if (!out.lines.length) {
    const why = [...out.skippedEpisodes.map((s) => `${s.runId}: ${s.reason}`), ...out.skippedSteps.slice(0, 1).map((s) => `${s.runId} step ${s.step}: ${s.reason}`)];
    throw new CliError(`nothing to export from "${id}": ${why.slice(0, 3).join('; ')}${why.length > 3 ? '; …' : ''}`, 1);
  }
  return out;
}

/** The episode's records as one chat sample or one transition per step; steps that cannot be exported are counted. */
function appendRecords(episode: Episode, format: ExportFormat, sanitise: Sanitiser, out: ExportResult): void {
  const { runId } = episode.info;
  if (format === 'sft') {
    const prompted = new Set(episode.steps.filter((s) => s.user).map((s) => s.step));
    for (const s of episode.steps) if (!prompted.has(s.step)) out.skippedSteps.push({ runId, step: s.step, reason: 'no stored prompt' });
  }
  const records = format === 'sft' ? sftSamples(episode) : transitions(episode);
  const schema = format === 'sft' ? sftSampleSchema : stepTransitionSchema;
  for (const record of records) {
    const checked = schema.safeParse(sanitise(record));
    if (!checked.success) {
      const issue = checked.error.issues[0];
      out.skippedSteps.push({ runId, step: record.metadata.step, reason: `invalid record: ${issue.path.join('.')}: ${issue.message}` });
      continue;
    }
    out.lines.push(JSON.stringify(checked.data));
    out.steps++;
  }
}

async function loadEpisode(ref: EpisodeRef, store: ArtifactStore): Promise<Episode | undefined> {
  // A workflow id that is no plain folder name cannot have a run folder.
  if (!isValidRunId(ref.runId)) return undefined;
  if (ref.source === 'env') {
    const records = await readEnvSteps(store, ref.runId);
    if (!records.length) return undefined;
    const { info: _unused, execution, ...rest } = ref;
    const episode = envEpisode({ ...rest, task: ref.task, closed: execution !== 'RUNNING' }, records);
    // Only a reset so far: no transition yet.
    return episode.steps.length ? episode : undefined;
  }
  const { records, prompts } = await readExperimentSteps(store, ref.runId);
  if (!records.length) return undefined;
  return experimentEpisode(ref.info!, records, prompts);
}
