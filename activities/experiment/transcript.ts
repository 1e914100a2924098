/**
 * The experiment's step records: one JSON line per step (thought, action, observation), kept in
 * the artifact store; and the condensed view of them the agent reads each step.
 */
import type { EnvAction, Observation } from '../../common/environment.js';

export interface StepRecord {
  step: number;
  thought?: string;
  action: EnvAction;
  observation: Observation;
}

export function parseTranscript(jsonl: string): StepRecord[] {
  return jsonl
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as StepRecord);
}

export function serializeTranscript(records: StepRecord[]): string {
  return records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : '');
}

/** One line naming an action, for the condensed history and the log. */
export function describeAction(a: EnvAction): string {
  switch (a.action) {
    case 'write_file':
      return `write_file ${a.path} (${a.content.length} chars)`;
    case 'read_file':
      return `read_file ${a.path}`;
    case 'list_files':
      return `list_files ${a.path ?? '.'}`;
    case 'run':
      return `run: ${a.command.length > 200 ? `${a.command.slice(0, 200)}…` : a.command}`;
    case 'finish':
      return 'finish';
  }
}

export function describeOutcome(o: Observation): string {
  if (o.action === 'run') {
    const how = o.killedBy ? `killed (${o.killedBy} limit)` : `exit ${o.exitCode}`;
    return `${how} after ${((o.durationMs ?? 0) / 1000).toFixed(1)}s`;
  }
  return o.ok ? 'ok' : `failed: ${o.error ?? 'unknown error'}`;
}

/**
 * What the agent reads of its own history: the last `fullSteps` steps with their observations
 * (bounded), earlier ones as one line each, so the prompt stays small however long the loop runs.
 */
export function condensedHistory(records: StepRecord[], fullSteps = 6, maxObservationChars = 3000): string {
  if (!records.length) return '(no steps yet: the workspace is empty)';
  const cut = records.length - fullSteps;
  return records
    .map((r, i) => {
      const head = `Step ${r.step}: ${describeAction(r.action)} → ${describeOutcome(r.observation)}`;
      if (i < cut) return head;
      const text = r.observation.text.length > maxObservationChars ? `…${r.observation.text.slice(-maxObservationChars)}` : r.observation.text;
      const changed = r.observation.filesChanged.length
        ? `\nfiles changed: ${r.observation.filesChanged.map((f) => `${f.path} (${f.change})`).join(', ')}`
        : '';
      return `${head}\n${text ? `\`\`\`\n${text}\n\`\`\`` : '(no output)'}${changed}`;
    })
    .join('\n\n');
}
