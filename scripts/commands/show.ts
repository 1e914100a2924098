/** `lab show`: a run's artifact paths and its final paper. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ArtifactStore } from '../../activities/artifacts.js';
import { artifactRoot } from '../../activities/config.js';
import { booleanFlag, defineCommand } from '../lib/command.js';
import { formatRun, noPaperLine } from '../lib/format.js';
import { print, printJson, withClient } from '../lib/output.js';
import { viewRun, type RunView } from '../lib/runs.js';
import { viewOtherWorkflow } from '../lib/otherWorkflows.js';
import { workflowType } from '../lib/client.js';
import { markStopped, runIdPositional } from './status.js';

export const showCommand = defineCommand({
  summary: 'show a run’s artifact paths and print its final paper',
  usage: 'lab show <runId> [--json]',
  options: { json: { type: 'boolean' } },
  positionals: ['runId'],
  schema: z.object({ runId: runIdPositional, json: booleanFlag }),
  async run({ runId, json }) {
    const store = new ArtifactStore(artifactRoot());
    return withClient(async ({ client }) => {
      const other = await viewOtherWorkflow(client, runId, await workflowType(client, runId));
      if (other) {
        if (json) printJson(other.json);
        else print(other.text);
        const paper = path.join(store.runFolder(runId), 'paper.md');
        if (!json && existsSync(paper)) print(`\n${'='.repeat(30)} paper.md ${'='.repeat(30)}\n${readFileSync(paper, 'utf8')}`);
        return other.exitCode;
      }
      const view = await viewRun(client, runId, { queryTimeoutMs: 2000 });
      const artifacts = view.result?.artifacts ?? Object.fromEntries(Object.entries(view.memo.completed).map(([k, v]) => [k, v!.artifact]));
      const paths = Object.fromEntries(Object.entries(artifacts).map(([stage, ref]) => [stage, store.localPath(ref!)]));
      const folder = store.runFolder(runId);
      if (json) {
        const stopped = view.stopped ? { stopped: view.stopped } : {};
        const ended = view.result && view.result.status !== 'completed' ? { stoppedAt: view.result.stoppedAt, reason: view.result.reason } : {};
        return void printJson({ runId, status: view.stopped?.how ?? view.status, ...stopped, ...ended, folder, artifacts: paths, reviews: reviewsIn(folder), provenance: provenanceOf(folder, view) });
      }
      print(markStopped(formatRun(view, store.root), view));
      print(`folder: ${folder}`);
      if (artifacts.paper) print(`\n${'='.repeat(30)} paper.md ${'='.repeat(30)}\n${await store.getText(artifacts.paper)}`);
      else print(noPaperLine(view));
    });
  },
});

/** The reviews `lab judge` wrote into the run's folder (reviews/<kind>/<judge>.json), with their scores. */
export function reviewsIn(folder: string): Array<{ kind: string; judge: string; path: string; scores: Record<string, number> }> {
  const root = path.join(folder, 'reviews');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .flatMap((kind) =>
      readdirSync(path.join(root, kind.name))
        .filter((f) => f.endsWith('.json'))
        .sort()
        .map((f) => {
          const file = path.join(root, kind.name, f);
          return { kind: kind.name, judge: f.slice(0, -'.json'.length), path: file, scores: scoresOf(file) };
        }),
    );
}

/** Every score a review answer holds: `{ name: { score } }` items and plain numbers (confidence). */
function scoresOf(file: string): Record<string, number> {
  try {
    const answer = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    const scores: Record<string, number> = {};
    for (const [k, v] of Object.entries(answer)) {
      if (typeof v === 'number') scores[k] = v;
      else if (v && typeof v === 'object' && typeof (v as { score?: unknown }).score === 'number') scores[k] = (v as { score: number }).score;
    }
    return scores;
  } catch {
    return {};
  }
}

/** The provenance check's summary (numbers checked, matched, not found) and its report's path; null before it ran. */
function provenanceOf(folder: string, view: RunView): { path?: string; checked: number; matched: number; unmatched: number; status?: 'ok' | 'error'; error?: string } | null {
  const file = path.join(folder, 'provenance.json');
  if (existsSync(file)) {
    try {
      const r = JSON.parse(readFileSync(file, 'utf8')) as { checked: number; matched: number; unmatched: unknown[]; status?: 'ok' | 'error'; error?: string };
      return { path: file, checked: r.checked, matched: r.matched, unmatched: r.unmatched.length, ...(r.status ? { status: r.status } : {}), ...(r.error ? { error: r.error } : {}) };
    } catch {
      // fall through to the summary the run recorded
    }
  }
  const checks = view.progress?.stages.map((s) => s.checks?.provenance).filter(Boolean).pop();
  return checks ? { checked: checks.checked, matched: checks.matched, unmatched: checks.unmatched, ...(checks.status ? { status: checks.status } : {}), ...(checks.error ? { error: checks.error } : {}) } : null;
}
