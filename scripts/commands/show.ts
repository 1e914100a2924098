/** `lab show`: a run's artifact paths and its final paper. */
import { z } from 'zod';
import type { ArtifactStore, RunFile } from '../../activities/artifacts.js';
import { isFlagged, markedSentence } from '../../activities/integrity/check/render.js';
import { checkCounts, flaggedClaim, parseCheckReport } from '../../activities/integrity/check/summary.js';
import type { SourceValue, Verdict } from '../../activities/integrity/check/types.js';
import { citationReportSchema, type CitationReport } from '../../common/citations.js';
import type { ReviewResult } from '../../common/reviews.js';
import { cliStore, locator } from '../lib/store.js';
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
    const store = cliStore();
    return withClient(async ({ client }) => {
      const other = await viewOtherWorkflow(client, runId, await workflowType(client, runId));
      if (other) {
        if (json) printJson(other.json);
        else print(other.text);
        const paper = json ? undefined : await store.readRunFile(runId, 'paper.md');
        if (paper) print(`\n${'='.repeat(30)} paper.md ${'='.repeat(30)}\n${paper.toString('utf8')}`);
        return other.exitCode;
      }
      const view = await viewRun(client, runId, { queryTimeoutMs: 2000 });
      const artifacts = view.result?.artifacts ?? Object.fromEntries(Object.entries(view.memo.completed).map(([k, v]) => [k, v!.artifact]));
      const paths = Object.fromEntries(Object.entries(artifacts).map(([stage, ref]) => [stage, store.locate(ref!)]));
      const folder = store.locateRun(runId);
      if (json) {
        const stopped = view.stopped ? { stopped: view.stopped } : {};
        const ended = view.result && view.result.status !== 'completed' ? { stoppedAt: view.result.stoppedAt, reason: view.result.reason } : {};
        return void printJson({ runId, status: view.stopped?.how ?? view.status, ...stopped, ...ended, folder, artifacts: paths, reviews: await reviewsIn(store, runId), provenance: await provenanceOf(store, runId, view), citations: await citationsIn(store, runId) });
      }
      print(markStopped(formatRun(view, locator(store)), view));
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
export async function reviewsIn(store: ArtifactStore, runId: string): Promise<ReviewView[]> {
  const files = (await store.listRun(runId)).filter((f) => f.name.startsWith('reviews/'));
  const kinds = [...new Set(files.map((f) => f.name.split('/')[1]).filter((k) => k && files.some((f) => f.name.startsWith(`reviews/${k}/`))))].sort();
  const views = await Promise.all(
    kinds.map(async (name): Promise<ReviewView[]> => {
      const dir = `reviews/${name}`;
      const summary = await readSummary(store, runId, `${dir}/summary.json`);
      const attempts = await attemptsIn(store, runId, files, dir, summary?.attempt);
      if (!summary && !attempts.length) return [];
      const latest = attempts.at(-1);
      const kind = summary?.kind ?? name.replace(/-no-code$/, '');
      const withCode = summary?.withCode ?? (name.endsWith('-no-code') ? false : undefined);
      return [
        {
          kind,
          ...(withCode !== undefined ? { withCode } : {}),
          status: summary?.status === 'completed' ? 'completed' : (latest?.status ?? 'unfinished'),
          path: locateInRun(store, runId, summary ? `${dir}/summary.json` : dir),
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
    }),
  );
  return views.flat();
}

/** `name` inside a run's folder, as a person would open it (a path, or an s3:// URL). */
function locateInRun(store: ArtifactStore, runId: string, name: string): string {
  return `${store.locateRun(runId).replace(/\/+$/, '')}/${name}`;
}

/** A review's summary.json, or undefined when there is none or it cannot be read. */
async function readSummary(store: ArtifactStore, runId: string, name: string): Promise<ReviewResult | undefined> {
  try {
    const body = await store.readRunFile(runId, name);
    const s = body && (JSON.parse(body.toString('utf8')) as ReviewResult);
    return s && typeof s === 'object' && Array.isArray(s.verdicts) ? s : undefined;
  } catch {
    return undefined;
  }
}

/** A kind's attempt folders, oldest first (by when each wrote its summary, or was last written to). */
async function attemptsIn(store: ArtifactStore, runId: string, files: RunFile[], dir: string, current: string | undefined): Promise<ReviewAttemptView[]> {
  const root = `${dir}/attempts/`;
  const names = [...new Set(files.filter((f) => f.name.startsWith(root)).map((f) => f.name.slice(root.length).split('/')[0]))];
  const attempts = await Promise.all(
    names.map(async (name) => {
      const summaryName = `${root}${name}/summary.json`;
      const s = await readSummary(store, runId, summaryName);
      const view: ReviewAttemptView = {
        attempt: name,
        status: s ? (s.status === 'completed' ? 'completed' : 'failed') : 'unfinished',
        current: name === current,
        path: locateInRun(store, runId, s ? summaryName : `${root}${name}`),
        judges: (s?.verdicts ?? []).map((v) => v.judge),
        failures: (s?.failures ?? []).map((f) => ({ judge: f.judge, error: f.error })),
        ...(s?.mean ? { mean: s.mean } : {}),
      };
      const written = files.filter((f) => (s ? f.name === summaryName : f.name.startsWith(`${root}${name}/`))).map((f) => f.modifiedMs);
      return { view, at: Math.max(0, ...written) };
    }),
  );
  return attempts.sort((a, b) => a.at - b.at || a.view.attempt.localeCompare(b.view.attempt)).map((a) => a.view);
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

async function provenanceOf(store: ArtifactStore, runId: string, view: RunView): Promise<ProvenanceView | null> {
  const body = await store.readRunFile(runId, 'provenance.json').catch(() => undefined);
  if (body) {
    try {
      const report = parseCheckReport(body.toString('utf8'));
      const counts = checkCounts(report);
      const flagged = report.findings.filter(isFlagged).map(
        (f): FlaggedClaimView => ({
          ...flaggedClaim(f),
          excerpt: markedSentence(f, { open: '⟦', close: '⟧', width: 160 }),
          ...(f.match ? { match: f.match } : {}),
          ...(f.nearest?.length ? { nearest: f.nearest.slice(0, 3) } : {}),
        }),
      );
      return { path: locateInRun(store, runId, 'provenance.json'), status: report.status, ...(report.error ? { error: report.error } : {}), numbers: report.status === 'ok' ? report.checked : 0, ...counts, flagged, notes: report.notes ?? [] };
    } catch {
      // fall through to the summary the run recorded
    }
  }
  const checks = view.progress?.stages.map((s) => s.checks?.provenance).filter(Boolean).pop();
  return checks ? { ...checks } : null;
}

/** What the citation check found in each document it checked (`citations/<document>.json`). */
/** `files`: the run's listing, when the caller has it already. */
export async function citationsIn(
  store: ArtifactStore,
  runId: string,
  files?: Array<{ name: string }>,
): Promise<Array<{ document: string; path: string } & Omit<CitationReport, 'verifiedIds'>>> {
  const names = (files ?? (await store.listRun(runId))).map((f) => f.name).filter((n) => /^citations\/[^/]+\.json$/.test(n));
  const reports = await Promise.all(
    names.map(async (name) => {
      try {
        const r = citationReportSchema.parse(JSON.parse((await store.readRunFile(runId, name))?.toString('utf8') ?? ''));
        const document = name.slice('citations/'.length, -'.json'.length);
        return [{ document, path: locateInRun(store, runId, name), checked: r.checked, verified: r.verified, flagged: r.flagged }];
      } catch {
        return [];
      }
    }),
  );
  return reports.flat();
}
