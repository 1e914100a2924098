/**
 * The paper's flagged numbers, from the run's provenance.json (the integrity check's v2
 * CheckReport): which result claims no measurement backs, where they are, and why, in the same
 * words `lab show --json` uses.
 */
import type { ArtifactStore } from '../../activities/artifacts.js';
import { isFlagged } from '../../activities/integrity/check/render.js';
import { flaggedClaim, parseCheckReport } from '../../activities/integrity/check/summary.js';
import type { CheckReport, Finding } from '../../activities/integrity/check/types.js';
import type { NumberMark } from './document.js';

export interface FlaggedClaim extends NumberMark {
  /** The document the check read: `paper.md` or `results.md`. */
  document: string;
  verdict: Finding['verdict'];
}

export type ProvenanceFindings =
  | { state: 'none' }
  | { state: 'unreadable'; error: string }
  | { state: 'error'; error: string }
  | { state: 'ok'; checked: number; results: number; flagged: FlaggedClaim[] };

export async function flaggedClaims(store: ArtifactStore, runId: string): Promise<ProvenanceFindings> {
  let report: CheckReport;
  try {
    const body = await store.readRunFile(runId, 'provenance.json');
    if (!body) return { state: 'none' };
    report = parseCheckReport(body.toString('utf8'));
  } catch (err) {
    return { state: 'unreadable', error: (err as Error).message };
  }
  if (report.status === 'error') return { state: 'error', error: report.error ?? 'no reason recorded' };
  const flagged = report.findings.filter(isFlagged).map(
    (f): FlaggedClaim => ({ ...flaggedClaim(f), column: f.column }),
  );
  return { state: 'ok', checked: report.checked, results: report.results, flagged };
}
