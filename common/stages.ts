/** The five stages of a research run, in the order they run (MLR-Agent's pipeline). */
export const STAGES = ['idea', 'literature', 'proposal', 'experiment', 'paper'] as const;
export type StageName = (typeof STAGES)[number];

/** File name each stage writes its main output to, inside the run's folder. */
export const STAGE_OUTPUT_FILE: Record<StageName, string> = {
  idea: 'idea.md',
  literature: 'related_work.md',
  proposal: 'proposal.md',
  experiment: 'experiment.md',
  paper: 'paper.md',
};

/** Which earlier stages' outputs a stage reads (besides the task itself). */
export const STAGE_INPUTS: Record<StageName, StageName[]> = {
  idea: [],
  literature: ['idea'],
  proposal: ['idea', 'literature'],
  experiment: ['idea', 'literature', 'proposal'],
  paper: ['idea', 'literature', 'proposal', 'experiment'],
};

export function isStageName(value: string): value is StageName {
  return (STAGES as readonly string[]).includes(value);
}

/** Parses a comma-separated stage list such as "idea,proposal"; throws with the bad name. */
export function parseStageList(list: string): StageName[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!isStageName(name)) {
      throw new Error(`unknown stage "${name}" (stages are: ${STAGES.join(', ')})`);
    }
  }
  return [...new Set(names)] as StageName[];
}
