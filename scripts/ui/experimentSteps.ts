/**
 * The experiment's steps for the run page's timeline: the transcript the experiment agent keeps
 * (`experiment/transcript.jsonl`, one record per finished step), read from the artifact store.
 * A step in progress is not in it yet; the stage row says which step is running.
 */
import type { ArtifactStore } from '../../activities/artifacts.js';
import { describeAction, describeOutcome, parseTranscript, type StepRecord } from '../../activities/experiment/transcript.js';

/** How much of a step's output the timeline shows (its end: where errors and results are). */
const OUTPUT_EXCERPT_CHARS = 600;
/** Steps kept for the page; the transcript itself is bounded by the run's step limit. */
const MAX_STEPS = 500;

export interface TimelineStep {
  step: number;
  action: StepRecord['action']['action'];
  /** `run: python train.py`, `write_file train.py (812 chars)`, as the agent's own history says. */
  what: string;
  command?: string;
  exitCode?: number;
  killedBy?: string;
  durationMs?: number;
  ok: boolean;
  /** `exit 0 after 3.1s`, `killed (time limit) after 60.0s`, `ok`, `failed: ...`. */
  outcome: string;
  /** The end of what the agent read back (stdout/stderr tails, a file, a listing). */
  excerpt: string;
  truncated: boolean;
  filesChanged: string[];
  thought?: string;
}

export type ExperimentTimeline = { state: 'none' } | { state: 'unreadable'; error: string } | { state: 'ok'; steps: TimelineStep[]; more: number };

export async function experimentTimeline(store: ArtifactStore, runId: string): Promise<ExperimentTimeline> {
  let records: StepRecord[];
  try {
    const body = await store.readRunFile(runId, 'experiment/transcript.jsonl');
    if (!body) return { state: 'none' };
    records = parseTranscript(body.toString('utf8'));
  } catch (err) {
    return { state: 'unreadable', error: (err as Error).message.split('\n')[0] };
  }
  const steps = records.slice(0, MAX_STEPS).map(timelineStep);
  return { state: 'ok', steps, more: Math.max(0, records.length - MAX_STEPS) };
}

export function timelineStep(r: StepRecord): TimelineStep {
  const o = r.observation;
  const text = o.text ?? '';
  return {
    step: r.step,
    action: r.action.action,
    what: describeAction(r.action),
    ...(r.action.action === 'run' ? { command: r.action.command } : {}),
    ...(o.exitCode !== undefined ? { exitCode: o.exitCode } : {}),
    ...(o.killedBy ? { killedBy: o.killedBy } : {}),
    ...(o.durationMs !== undefined ? { durationMs: o.durationMs } : {}),
    ok: o.ok && (o.exitCode === undefined || o.exitCode === 0) && !o.killedBy,
    outcome: describeOutcome(o),
    excerpt: text.length > OUTPUT_EXCERPT_CHARS ? text.slice(-OUTPUT_EXCERPT_CHARS) : text,
    truncated: text.length > OUTPUT_EXCERPT_CHARS,
    filesChanged: (o.filesChanged ?? []).map((f) => `${f.path} (${f.change})`),
    ...(r.thought ? { thought: r.thought } : {}),
  };
}
