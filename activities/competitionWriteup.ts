/**
 * The write-up of a competition run, for the judges (MLRC-Bench's rubric): made from the run's own
 * records, without an LLM. It holds the agent's final summary (labelled as its own words) and every
 * command it ran with the output's last lines; never the hidden test score, which judges must not see.
 */
import type { ArtifactRef } from '../common/schemas.js';
import type { ArtifactStore } from './artifacts.js';
import { describeAction, describeOutcome, parseTranscript } from './experiment/transcript.js';

export interface CompetitionWriteupInput {
  runId: string;
  task: string;
  title: string;
  model: string;
  transcript?: ArtifactRef;
}

const TAIL_CHARS = 1500;

export function createCompetitionWriteupActivities({ store }: { store: ArtifactStore }) {
  return {
    async writeCompetitionWriteup(input: CompetitionWriteupInput): Promise<ArtifactRef> {
      const records = input.transcript ? parseTranscript(await store.getText(input.transcript)) : [];
      const finish = [...records].reverse().find((r) => r.action.action === 'finish');
      const summary = finish?.action.action === 'finish' ? finish.action.summary : undefined;
      const lines = [
        `# ${input.title}: the agent's submission`,
        '',
        `> Assembled by Durable Lab from the records of run \`${input.runId}\` (model \`${input.model}\`), without an LLM.`,
        '> The summary is the agent\'s own words; the command outputs below are what the sandbox printed.',
        '',
        '## The agent\'s summary',
        '',
        summary?.trim() || '(the agent did not finish with a summary)',
        '',
        '## What the agent did',
        '',
      ];
      for (const r of records) {
        lines.push(`- step ${r.step}: ${describeAction(r.action)} → ${describeOutcome(r.observation)}`);
        if (r.action.action === 'run' && r.observation.text) {
          const tail = r.observation.text.length > TAIL_CHARS ? `…${r.observation.text.slice(-TAIL_CHARS)}` : r.observation.text;
          lines.push('', '```text', tail.replace(/```/g, "'''"), '```', '');
        }
      }
      if (!records.length) lines.push('(no steps were recorded)');
      return store.put(input.runId, 'paper.md', `${lines.join('\n')}\n`);
    },
  };
}

export type CompetitionWriteupActivities = ReturnType<typeof createCompetitionWriteupActivities>;
