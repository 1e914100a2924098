/** `lab export`: stored step records as JSONL for supervised fine-tuning or RL (docs/trajectories.md). */
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../../activities/atomicFile.js';
import { exportsDir } from '../../activities/config.js';
import { cliStore } from '../lib/store.js';
import { booleanFlag, defineCommand, flag, required } from '../lib/command.js';
import { nonEmptyText, oneOf, runIdToFind } from '../lib/options.js';
import { withClient } from '../lib/output.js';
import { EXPORT_FORMATS, exportTrajectories, type ExportResult } from '../lib/trajectories.js';

export const exportCommand = defineCommand({
  summary: 'write the step records of a run, environment session or benchmark as JSONL: chat samples (sft) or transitions (steps)',
  usage:
    'lab export --format sft|steps <runId|sessionId|benchId> [--out FILE|-] [--include-failed]\n\n' +
    '  --format sft      one chat sample per step (system, the prompt the model saw, its JSON action), for fine-tuning\n' +
    '  --format steps    one (observation, action, reward, next_observation, done) transition per step, for RL\n' +
    '  --out FILE        default <LAB_HOME>/exports/<id>.<format>.jsonl; - writes to stdout\n' +
    '  --include-failed  also episodes that failed (failed_experiment, failed, invalid, unfinished); default: only\n' +
    '                    succeeded research runs, scored competition runs and finished sessions\n' +
    'Secrets and machine paths are stripped; the schemas are in docs/trajectories.md.',
  options: { format: { type: 'string' }, out: { type: 'string' }, 'include-failed': { type: 'boolean' } },
  positionals: ['id'],
  schema: z.object({
    id: required('missing run, environment session or benchmark id (see `lab list`)', runIdToFind),
    format: required('missing --format (sft or steps)', oneOf('--format', EXPORT_FORMATS)),
    out: flag(nonEmptyText('--out')),
    'include-failed': booleanFlag,
  }),
  async run({ id, format, out, 'include-failed': includeFailed }) {
    const result = await withClient(({ client }) => exportTrajectories(client, id, { format, store: cliStore(), includeFailed }));
    const body = result.lines.join('\n') + '\n';
    let where = 'standard output';
    if (out === '-') process.stdout.write(body);
    else {
      const file = path.resolve(out ?? path.join(exportsDir(), `${fileSafe(id)}.${format}.jsonl`));
      // A half-written export would look like a complete one with fewer steps.
      await writeFileAtomic(file, body);
      // As the user gave it, else absolute: a path relative to here reads as `../../tmp/…` for a file in /tmp.
      where = out ?? file;
    }
    process.stderr.write(summary(result, format, where));
  },
});

function summary(r: ExportResult, format: string, where: string): string {
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const lines = [
    `exported ${plural(r.episodes, 'episode')}, ${plural(r.steps, 'step')} (${format}) to ${where}; skipped ${plural(r.skippedEpisodes.length, 'episode')}, ${plural(r.skippedSteps.length, 'step')}`,
    ...r.skippedEpisodes.map((s) => `  skipped ${s.runId}: ${s.reason}`),
    ...r.skippedSteps.map((s) => `  skipped ${s.runId} step ${s.step}: ${s.reason}`),
  ];
  return lines.join('\n') + '\n';
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[.]+/, '_') || 'export';
}

