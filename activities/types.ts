import type { ArtifactRef, Budget, StageName, StageOutcome } from '../common/schemas.js';

/** Input of one stage activity: references only, the activity loads content itself. */
export interface StageActivityInput {
  runId: string;
  stage: StageName;
  model: string;
  reasoningEffort?: 'low' | 'medium' | 'high';
  task: { name: string; ref: ArtifactRef };
  /** Outputs of earlier stages this stage reads. */
  inputs: Partial<Record<StageName, ArtifactRef>>;
  /** The experiment's other files (log, result data, figures, code) the paper may read and embed. */
  attachments?: ArtifactRef[];
  /** Files whose numbers count as measured, for the provenance check. */
  sources?: ArtifactRef[];
  /** Set when a human asked for a revision of this stage's previous output. */
  revision?: { feedback: string; previous: ArtifactRef; number: number };
  /** What is left of the run's budget, so the stage stops before a call that would overrun it. */
  budgetLeft?: Budget;
}

export type { StageOutcome };
