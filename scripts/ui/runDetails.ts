/**
 * Everything the run page shows, read the way `lab status` and `lab show` read it: the RunView
 * (`viewRun`: progress from a worker, else memo and result), each stage's document from the
 * artifact store (content-checked), and the integrity check's flagged numbers.
 */
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { ArtifactStore } from '../../activities/artifacts.js';
import { isValidRunId } from '../../common/runIds.js';
import type { ArtifactRef } from '../../common/schemas.js';
import { STAGES, type StageName } from '../../common/stages.js';
import { workflowType } from '../lib/client.js';
import { viewOtherWorkflow } from '../lib/otherWorkflows.js';
import { viewRun, type RunView } from '../lib/runs.js';
import { loadRunArtifacts, NO_RUN_ARTIFACTS, type RunArtifacts } from './runArtifacts.js';
import { flaggedClaims, type ProvenanceFindings } from './provenance.js';
import { gateDecisions, type RecordedDecision } from '../lib/gateDecisions.js';
import { experimentTimeline, type ExperimentTimeline } from './experimentSteps.js';

/** Larger documents are cut: a page is for reading, the file stays on disk. */
const MAX_SHOWN_BYTES = 1024 * 1024;

export interface StageDocument {
  stage: StageName;
  /** The file inside the store (`runs/<id>/idea.md`), as `lab status` prints it. */
  path: string;
  /** The name the integrity check gives it (`paper.md`, `results.md`). */
  document: string;
  text?: string;
  truncated?: boolean;
  /** Why the text could not be read (another host's store, a corrupt copy). */
  error?: string;
  /** The version waiting at the open gate. */
  atGate: boolean;
}

export interface RunDetails {
  view: RunView;
  documents: StageDocument[];
  provenance: ProvenanceFindings;
  /** Who decided at the run's gates and when, from its history; `undefined` when the history could not be read. */
  decisions?: RecordedDecision[];
  /** The experiment's finished steps, from its transcript. */
  experiment: ExperimentTimeline;
  /** The run's files (for figures), citation reports and result CSVs. */
  artifacts: RunArtifacts;
}

/** Another lab workflow's id (a benchmark, a review, an experiment child): what `lab status` says about it. */
export interface OtherWorkflow {
  runId: string;
  text: string;
}

export async function loadRunDetails(client: Client, store: ArtifactStore, runId: string): Promise<RunDetails | OtherWorkflow> {
  const other = await viewOtherWorkflow(client, runId, await workflowType(client, runId));
  if (other) return { runId, text: other.text };
  // As `lab status`: without a worker the progress query cannot be answered; do not wait long.
  const view = await viewRun(client, runId, { queryTimeoutMs: 2000 });
  const refs = stageArtifacts(view);
  const gate = view.progress?.pendingGate;
  const documents = await Promise.all(
    STAGES.filter((s) => refs[s]).map(async (stage): Promise<StageDocument> => {
      const ref = refs[stage]!;
      const doc = { stage, path: ref.path, document: path.posix.basename(ref.path), atGate: gate?.stage === stage };
      try {
        const body = await store.get(ref);
        const truncated = body.length > MAX_SHOWN_BYTES;
        return { ...doc, text: body.subarray(0, MAX_SHOWN_BYTES).toString('utf8'), ...(truncated ? { truncated } : {}) };
      } catch (err) {
        return { ...doc, error: (err as Error).message.split('\n')[0] };
      }
    }),
  );
  const valid = isValidRunId(runId);
  const [provenance, decisions, experiment, artifacts] = await Promise.all([
    valid ? flaggedClaims(store, runId) : ({ state: 'none' } as const),
    decisionsOf(client, view),
    valid ? experimentTimeline(store, runId) : ({ state: 'none' } as const),
    valid ? loadRunArtifacts(store, runId) : NO_RUN_ARTIFACTS,
  ]);
  return { view, documents, provenance, decisions, experiment, artifacts };
}

/** Closed runs' decisions: their history no longer changes, so a reload need not read it again. */
const closedRunDecisions = new Map<string, RecordedDecision[]>();
const CLOSED_RUNS_KEPT = 500;

/** Who decided at the run's gates, from its history; read once for a closed run. */
async function decisionsOf(client: Client, view: RunView): Promise<RecordedDecision[] | undefined> {
  const key = `${view.runId}@${view.startTime.toISOString()}`;
  const kept = closedRunDecisions.get(key);
  if (kept) return kept;
  const decisions = await gateDecisions(client, view.runId).catch(() => undefined);
  if (decisions && view.closeTime) {
    if (closedRunDecisions.size >= CLOSED_RUNS_KEPT) closedRunDecisions.delete(closedRunDecisions.keys().next().value!);
    closedRunDecisions.set(key, decisions);
  }
  return decisions;
}

/**
 * Each stage's latest document: the open gate's version, else what the live progress, the result
 * or the memo (no worker needed) recorded, in that order.
 */
function stageArtifacts(view: RunView): Partial<Record<StageName, ArtifactRef>> {
  const refs: Partial<Record<StageName, ArtifactRef>> = {};
  for (const stage of STAGES) {
    const ref = view.result?.artifacts[stage] ?? view.memo.completed[stage]?.artifact;
    if (ref) refs[stage] = ref;
  }
  for (const s of view.progress?.stages ?? []) if (s.artifact) refs[s.stage] = s.artifact;
  const gate = view.progress?.pendingGate;
  if (gate) refs[gate.stage] = gate.artifact;
  return refs;
}
