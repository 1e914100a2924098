/**
 * The integrity check as the rest of the system shows it: the counts a stage records (and
 * `lab status` prints), and the section appended to a paper (which the judges read as evidence).
 * Pure.
 */
import type { StageChecks } from '../../../common/schemas.js';
import { FLAGGED_VERDICTS, type CheckReport, type Finding, type Verdict } from './types.js';

/** Appended sections carry this heading; the claim extractor skips what follows it. */
export const INTEGRITY_HEADING = 'Integrity check (Durable Lab)';

/** What each verdict means, in the words a reader sees. */
export const VERDICT_WORDS: Record<Verdict, string> = {
  supported: 'measured, key fits',
  weak: 'measured, key not named',
  derived: 'derived from measured values',
  mismatch: 'measured only under another metric or method',
  typed: 'only in a file the agent typed',
  unsupported: 'in no measured file',
  'setting-recorded': 'setting, recorded',
  'setting-differs': 'setting, differs from the recorded one',
  'setting-unrecorded': 'setting, not recorded',
  listed: 'not a result (cross-reference, quoted, future work, context)',
};

/** Counts for the stage's checks: result claims, how many are backed, how many are flagged, by verdict. */
export function checkCounts(report: CheckReport): NonNullable<StageChecks['provenance']> {
  if (report.status === 'error') return { checked: 0, matched: 0, unmatched: 0, status: 'error', ...(report.error ? { error: report.error } : {}) };
  const c = report.counts;
  return {
    checked: report.results,
    matched: (c.supported ?? 0) + (c.weak ?? 0) + (c.derived ?? 0),
    unmatched: report.flagged,
    counts: { ...c },
  };
}

const FLAGS_SHOWN = 15;

/** The number marked in its sentence, cut around it. */
export function markedExcerpt(f: Finding, width = 90): string {
  const start = Math.max(0, f.at - width);
  const end = Math.min(f.sentence.length, f.at + f.text.length + width);
  const head = start > 0 ? '…' : '';
  const tail = end < f.sentence.length ? '…' : '';
  return `${head}${f.sentence.slice(start, f.at)}**⟦${f.sentence.slice(f.at, f.at + f.text.length)}⟧**${f.sentence.slice(f.at + f.text.length, end)}${tail}`.replace(/\s+/g, ' ');
}

/** The section appended to a paper: counts by verdict and the flagged result claims. */
export function integritySection(report: CheckReport, detailsIn = 'provenance.json'): string {
  if (report.status === 'error') return '';
  const counts = (Object.entries(report.counts) as Array<[Verdict, number]>).filter(([, n]) => n > 0).map(([v, n]) => `${n} ${VERDICT_WORDS[v]}`);
  const flagged = report.findings.filter((f) => f.role === 'result' && FLAGGED_VERDICTS.includes(f.verdict));
  const lines = [
    '',
    '---',
    '',
    `## ${INTEGRITY_HEADING}`,
    '',
    `> Every number above was checked against the files the experiment's code wrote (${detailsIn} has each one). Result claims: ${report.results}; flagged: ${report.flagged}.`,
    `> By verdict: ${counts.join('; ') || 'no numbers stated'}.`,
  ];
  if (flagged.length) {
    lines.push('', 'Result claims no measurement supports:', '');
    for (const f of flagged.slice(0, FLAGS_SHOWN)) lines.push(`- line ${f.line}, ${VERDICT_WORDS[f.verdict]}: ${markedExcerpt(f, 60)}`);
    if (flagged.length > FLAGS_SHOWN) lines.push(`- and ${flagged.length - FLAGS_SHOWN} more (${detailsIn})`);
  }
  return `${lines.join('\n')}\n`;
}

/** A stored provenance.json read back: a v2 check report, or an error saying it is not one. */
export function parseCheckReport(text: string): CheckReport {
  const report = JSON.parse(text) as CheckReport;
  if (report.version !== 2 || !Array.isArray(report.findings)) throw new Error('not a v2 check report');
  return report;
}

/** Why a flagged claim is flagged, in a reader's words (with the check's note, if any). */
function flaggedReason(f: Pick<Finding, 'verdict' | 'note'>): string {
  return f.note ? `${VERDICT_WORDS[f.verdict]}: ${f.note}` : VERDICT_WORDS[f.verdict];
}

/** A flagged finding as readers are shown it (`lab show --json`, the web console): where it is, what it says, why. */
export function flaggedClaim(f: Finding): { document: string; line: number; text: string; verdict: Verdict; reason: string } {
  return { document: f.document, line: f.line, text: f.text, verdict: f.verdict, reason: flaggedReason(f) };
}
