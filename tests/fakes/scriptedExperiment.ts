/**
 * A scripted experiment agent for workflow tests: the replies a model would give at each step of
 * the experiment loop (its prompt's last section says "Experiment step N"). The default writes a small real
 * experiment (standard library only, so it runs fast in the sandbox), runs it, and finishes.
 */
import type { EnvAction } from '../../common/environment.js';

export const QUICK_EXPERIMENT = `import csv, json, os, random
random.seed(0)
os.makedirs("results", exist_ok=True)
rows = []
for method in ("baseline", "proposed"):
    scores = [random.random() * (1.1 if method == "proposed" else 1.0) for _ in range(200)]
    rows.append({"method": method, "mean_score": round(sum(scores) / len(scores), 4)})
with open("results/metrics.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=["method", "mean_score"])
    w.writeheader()
    w.writerows(rows)
print(json.dumps(rows))
`;

/** The step number in an experiment-agent prompt, or undefined for any other prompt. */
export function experimentStep(prompt: string): number | undefined {
  // The step's instruction closes the prompt (after the brief, the task and the steps so far).
  const m = /^Experiment step (\d+) of/m.exec(prompt);
  return m ? Number(m[1]) : undefined;
}

export type ScriptedSteps = Array<{ thought?: string; action: EnvAction }>;

export const QUICK_STEPS: ScriptedSteps = [
  { thought: 'Write a small experiment with a baseline.', action: { action: 'write_file', path: 'main.py', content: QUICK_EXPERIMENT } },
  { thought: 'Run it.', action: { action: 'run', command: 'python main.py', timeoutSeconds: 60 } },
  { thought: 'Results are in results/metrics.csv.', action: { action: 'finish', summary: 'Ran main.py; results/metrics.csv holds the mean score of each method.' } },
];

/** The JSON reply for experiment step `step` (the last scripted step repeats if the loop goes on). */
export function scriptedExperimentReply(step: number, steps: ScriptedSteps = QUICK_STEPS): string {
  const s = steps[Math.min(step, steps.length) - 1];
  return JSON.stringify({ thought: s.thought ?? '', action: s.action });
}
