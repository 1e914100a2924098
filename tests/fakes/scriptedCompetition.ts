/**
 * A scripted competition agent (its prompt says "Competition step N"): replaces the baseline of
 * a regression competition with gradient-boosted trees, checks the dev score, and finishes.
 */
import type { ScriptedSteps } from './scriptedExperiment.js';

export const BOOSTED_METHOD = `"""Gradient-boosted trees instead of least squares."""
from sklearn.ensemble import HistGradientBoostingRegressor


def build():
    return HistGradientBoostingRegressor(max_iter=300, learning_rate=0.1, random_state=0)
`;

export const COMPETITION_STEPS: ScriptedSteps = [
  { thought: 'Read the baseline first.', action: { action: 'read_file', path: 'methods/baseline.py' } },
  { thought: 'Boosted trees capture the interaction and the non-linear terms.', action: { action: 'write_file', path: 'methods/baseline.py', content: BOOSTED_METHOD } },
  { thought: 'Check it on the development split.', action: { action: 'run', command: 'python run.py --split dev', timeoutSeconds: 120 } },
  { thought: 'Done.', action: { action: 'finish', summary: 'Replaced least squares with histogram gradient boosting; the dev RMSE is what run.py printed above.' } },
];

export function competitionStep(prompt: string): number | undefined {
  // The step's instruction closes the prompt (after the brief, the task and the steps so far).
  const m = /^Competition step (\d+) of/m.exec(prompt);
  return m ? Number(m[1]) : undefined;
}

export function scriptedCompetitionReply(step: number): string {
  const s = COMPETITION_STEPS[Math.min(step, COMPETITION_STEPS.length) - 1];
  return JSON.stringify({ thought: s.thought ?? '', action: s.action });
}
