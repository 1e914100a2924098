/** `lab show`: a run's artifact paths and its final paper. */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { type ArtifactStore } from '../../activities/artifacts.js';
import { LocalArtifactStore } from '../../activities/store/localStore.js';
import { isFlagged, markedSentence } from '../../activities/integrity/check/render.js';
import { checkCounts, flaggedClaim, parseCheckReport } from '../../activities/integrity/check/summary.js';
import type { SourceValue, Verdict } from '../../activities/integrity/check/types.js';
import { citationReportSchema, type CitationReport } from '../../common/citations.js';
import type { ReviewResult } from '../../common/reviews.js';
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
    const store = new LocalArtifactStore(artifactRoot());
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
        return void printJson({ runId, status: view.stopped?.how ?? view.status, ...stopped, ...ended, folder, artifacts: paths, reviews: reviewsIn(store, folder), provenance: provenanceOf(folder, view), citations: citationsIn(folder) });
      }
      print(markStopped(formatRun(view, store.root), view));
      print(`folder: ${folder}`);
      if (artifacts.paper) print(`\n${'='.repeat(30)} paper.md ${'='.repeat(30)}\n${await store.getText(artifacts.paper)}`);
      else print(noPaperLine(view));
    });
  },
});

/** One judge's scores in a review, and where its whole answer is. */
export interface ReviewJudgeView {
  judge: string;
  model: string;
  scores: Record<string, number>;
  overall?: number;
  hasHallucination?: boolean;
  calibrated?: false;
  path: string;
}

/** One attempt at a review kind (`reviews/<kind>/attempts/<attempt>/`), failed ones included. */
export interface ReviewAttemptView {
  attempt: string;
  /** `unfinished`: the attempt folder holds no summary (the review is running, or stopped before it wrote one). */
  status: 'completed' | 'failed' | 'unfinished';
  /** The attempt `reviews/<kind>/summary.json` holds: the one readers see. */
  current: boolean;
  path: string;
  judges: string[];
  failures: Array<{ judge: string; error: string }>;
  mean?: Record<string, number>;
}

/** A review kind of the run as `lab judge` left it. */
export interface ReviewView {
  kind: string;
  withCode?: boolean;
  /** `completed` when a completed review is there to read; else how its latest attempt ended. */
  status: 'completed' | 'failed' | 'unfinished';
  /** The kind's summary.json (the latest completed review), or its folder when there is none. */
  path: string;
  rubricVersion?: string;
  /** The attempt the summary holds. */
  attempt?: string;
  /** Mean over the judges, per dimension; how far apart they are (two or more judges). */
  mean?: Record<string, number>;
  disagreement?: ReviewResult['disagreement'];
  judges: ReviewJudgeView[];
  calibrated?: false;
  calibration?: string;
  /** Every attempt, oldest first. */
  attempts: ReviewAttemptView[];
}

/**
 * The reviews `lab judge` wrote into the run's folder, one per review kind (`reviews/<kind>[-no-code]/`):
 * the latest completed review (`summary.json`) with its mean and its judges' scores, and every
 * attempt (`attempts/<attempt>/summary.json`), a failed re-judge marked as such.
 */
export function reviewsIn(store: ArtifactStore, folder: string): ReviewView[] {
  const root = path.join(folder, 'reviews');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort()
    .flatMap((name) => {
      const dir = path.join(root, name);
      const file = path.join(dir, 'summary.json');
      const summary = readSummary(file);
      const attempts = attemptsIn(dir, summary?.attempt);
      if (!summary && !attempts.length) return [];
      const latest = attempts.at(-1);
      const kind = summary?.kind ?? name.replace(/-no-code$/, '');
      const withCode = summary?.withCode ?? (name.endsWith('-no-code') ? false : undefined);
      return [
        {
          kind,
          ...(withCode !== undefined ? { withCode } : {}),
          status: summary?.status === 'completed' ? 'completed' : (latest?.status ?? 'unfinished'),
          path: summary ? file : dir,
          ...(summary
            ? {
                rubricVersion: summary.rubricVersion,
                ...(summary.attempt ? { attempt: summary.attempt } : {}),
                ...(summary.mean ? { mean: summary.mean } : {}),
                ...(summary.disagreement ? { disagreement: summary.disagreement } : {}),
              }
            : {}),
          judges: (summary?.verdicts ?? []).map((v) => ({
            judge: v.judge,
            model: v.model,
            scores: v.scores,
            ...(v.overall !== undefined ? { overall: v.overall } : {}),
            ...(v.hasHallucination !== undefined ? { hasHallucination: v.hasHallucination } : {}),
            ...(v.calibrated === false ? { calibrated: false as const } : {}),
            path: store.locate(v.artifact),
          })),
          ...(summary?.calibrated === false ? { calibrated: false as const, ...(summary.calibration ? { calibration: summary.calibration } : {}) } : {}),
          attempts,
        } satisfies ReviewView,
      ];
    });
}

/** A review's summary.json, or undefined when there is none or it cannot be read. */
function readSummary(file: string): ReviewResult | undefined {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as ReviewResult;
    return s && typeof s === 'object' && Array.isArray(s.verdicts) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** A kind's attempt folders, oldest first (by when each wrote its summary, or was last written to). */
function attemptsIn(dir: string, current: string | undefined): ReviewAttemptView[] {
  const root = path.join(dir, 'attempts');
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const file = path.join(root, d.name, 'summary.json');
      const s = readSummary(file);
      const view: ReviewAttemptView = {
        attempt: d.name,
        status: s ? (s.status === 'completed' ? 'completed' : 'failed') : 'unfinished',
        current: d.name === current,
        path: s ? file : path.join(root, d.name),
        judges: (s?.verdicts ?? []).map((v) => v.judge),
        failures: (s?.failures ?? []).map((f) => ({ judge: f.judge, error: f.error })),
        ...(s?.mean ? { mean: s.mean } : {}),
      };
      return { view, at: statSync(view.path).mtimeMs };
    })
    .sort((a, b) => a.at - b.at || a.view.attempt.localeCompare(b.view.attempt))
    .map((a) => a.view);
}

/** A result claim the provenance check flagged, with why. */
export interface FlaggedClaimView {
  document: string;
  line: number;
  text: string;
  verdict: Verdict;
  /** The verdict in words ("in no measured file"), and the check's note when it gave one. */
  reason: string;
  /** The sentence, the number marked ⟦…⟧. */
  excerpt: string;
  /** The measured value under another key (mismatch) or in a typed file (typed). */
  match?: SourceValue;
  /** The measured values closest to it. */
  nearest?: SourceValue[];
}

/**
 * The provenance check of the run's paper: `checked`, `matched`, `unmatched` and `counts` as the
 * stage recorded them (checkCounts: result claims, backed ones, flagged ones, numbers by verdict),
 * `numbers` (every stated number examined), the flagged claims and the notes; `path` is
 * provenance.json. Before provenance.json exists (or when it cannot be read) the counts the run
 * recorded in its progress, without `path`; null before the check ran.
 */
export interface ProvenanceView {
  path?: string;
  status?: 'ok' | 'error';
  error?: string;
  numbers?: number;
  checked: number;
  matched: number;
  unmatched: number;
  counts?: Record<string, number>;
  flagged?: FlaggedClaimView[];
  notes?: string[];
}

function provenanceOf(folder: string, view: RunView): ProvenanceView | null {
  const file = path.join(folder, 'provenance.json');
  if (existsSync(file)) {
    try {
      const report = parseCheckReport(readFileSync(file, 'utf8'));
      const counts = checkCounts(report);
      const flagged = report.findings.filter(isFlagged).map(
        (f): FlaggedClaimView => ({
          ...flaggedClaim(f),
          excerpt: markedSentence(f, { open: '⟦', close: '⟧', width: 160 }),
          ...(f.match ? { match: f.match } : {}),
          ...(f.nearest?.length ? { nearest: f.nearest.slice(0, 3) } : {}),
        }),
      );
      return { path: file, status: report.status, ...(report.error ? { error: report.error } : {}), numbers: report.status === 'ok' ? report.checked : 0, ...counts, flagged, notes: report.notes ?? [] };
    } catch {
      // fall through to the summary the run recorded
    }
  }
  const checks = view.progress?.stages.map((s) => s.checks?.provenance).filter(Boolean).pop();
  return checks ? { ...checks } : null;
}

/** What the citation check found in each document it checked (`citations/<document>.json`). */
export function citationsIn(folder: string): Array<{ document: string; path: string } & Omit<CitationReport, 'verifiedIds'>> {
  const root = path.join(folder, 'citations');
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((f) => {
      const file = path.join(root, f);
      try {
        const r = citationReportSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
        return [{ document: f.slice(0, -'.json'.length), path: file, checked: r.checked, verified: r.verified, flagged: r.flagged }];
      } catch {
        return [];
      }
    });
}
