/**
 * What differs between the single-call stages: extra prompt material, and what happens to the
 * model's text before it is stored. One entry per stage that needs more than the default.
 */
import type { ArtifactRef, StageChecks, StageName } from '../../common/schemas.js';
import type { ArtifactStore } from '../artifacts.js';
import type { StageActivityInput } from '../types.js';
import { checkCounts, integritySection } from '../integrity/check/summary.js';
import { paperEvidence, writeProvenance } from './evidence.js';

export interface FinishedDocument {
  document: string;
  extra: ArtifactRef[];
  checks?: StageChecks;
}

export interface StageHooks {
  /** Appended to the stage's prompt. */
  extraPrompt?(store: ArtifactStore, input: StageActivityInput): Promise<string | undefined>;
  /** Turns the model's text into the stored document and its side files. */
  finish?(store: ArtifactStore, input: StageActivityInput, body: string, withHeader: (text: string) => string): Promise<FinishedDocument>;
}

/**
 * The experiment as one LLM call (plan + code, never executed): kept so runs started before the
 * experiment became a sandboxed agent loop still complete the way they began.
 */
const legacyExperiment: StageHooks = {
  async finish(store, input, body, withHeader) {
    const code = extractPython(body);
    const extra = code ? [await store.put(input.runId, 'experiment/main.py', code, 'text/x-python')] : [];
    const document = `${body}\n\n---\n**Status:** code written, not executed. Durable Lab runs experiment code only in its sandbox; no result in this file was measured.`;
    return { document: withHeader(document), extra };
  },
};

/** The paper reads the experiment's files and the verified references; its numbers are checked against what was measured. */
const paper: StageHooks = {
  extraPrompt: (store, input) => paperEvidence(store, input.attachments),
  async finish(store, input, body, withHeader) {
    const results = input.inputs.experiment;
    const resultsText = results ? await store.getText(results) : undefined;
    // Whatever the model wrote, a reader learns first that nothing was measured.
    const failed = resultsText && /\*\*Status:\*\* failed experiment: (.*)/.exec(resultsText)?.[1];
    const notice = failed
      ? `> **Durable Lab:** the experiment produced no results (${failed}). No number in this paper was measured: read it as a plan and a negative report.\n\n`
      : '';
    const document = withHeader(`${notice}${body}`);
    const documents: Record<string, string> = { 'paper.md': document };
    if (resultsText && input.sources) documents['results.md'] = resultsText;
    const { report, ref } = await writeProvenance(store, input.runId, documents, input.sources ?? [], input.attachments ?? []);
    // A check that could not run says so at the end of the paper: no count of flags stands for it.
    // The counts by verdict and the flagged claims end the paper: a reader, and the judges, see them.
    const stored = report.status === 'error' ? `${document}${provenanceFailedSection(report.error)}` : `${document}${integritySection(report)}`;
    const provenance = checkCounts(report);
    return { document: stored, extra: [ref], checks: { provenance } };
  },
};

export const STAGE_HOOKS: Partial<Record<StageName, StageHooks>> = { experiment: legacyExperiment, paper };

/** Appended to a paper whose provenance check could not run. */
export function provenanceFailedSection(error: string | undefined): string {
  return `\n\n---\n\n## Provenance check: could not run\n\n> **Durable Lab:** the check that every number in this paper comes from a file the experiment wrote could not run (${error ?? 'unknown error'}). No number in this paper was checked; provenance.json says the same.\n`;
}

function extractPython(markdown: string): string | undefined {
  const blocks = [...markdown.matchAll(/```(?:python|py)\s*\n([\s\S]*?)```/g)].map((m) => m[1]);
  if (!blocks.length) return undefined;
  return blocks.sort((a, b) => b.length - a.length)[0];
}
