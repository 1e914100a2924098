/**
 * Stage prompts, written for this project after MLR-Agent's stage contracts
 * (see shared/mlr-judge-rubrics.md): what each stage reads and the shape it must write.
 */
import type { StageName } from '../../common/stages.js';

export interface StagePromptInput {
  task: string;
  inputs: Partial<Record<StageName, string>>;
  revision?: { feedback: string; previous: string; number: number };
}

const SYSTEM =
  'You are a careful machine-learning researcher. Write in clear markdown. ' +
  'Never invent experimental results, numbers you did not measure, or papers you are not sure exist; say plainly what is unknown.';

const INSTRUCTIONS: Record<StageName, string> = {
  idea:
    'Propose one research idea that answers the workshop call below. At most 200 words, with exactly these sections:\n' +
    '# <Title>\n## Motivation\n## Main Idea',
  literature:
    'Write a literature review for the research idea below. List at least 10 real papers from 2023 to 2025 that are closely related; ' +
    'for each give the title, arXiv id, authors, year and a two-sentence summary. Only list papers you are confident exist; ' +
    'mark any detail you are unsure of with "(unverified)". End with "## Key Challenges": at most 5 open challenges.',
  proposal:
    'Write a full research proposal (about 2000 words) for the idea, grounded in the literature review. Sections:\n' +
    '# <Title>\n## Introduction (background, research objectives, significance)\n' +
    '## Methodology (data collection, the algorithm with its formulas in LaTeX, experimental design, evaluation metrics)\n' +
    '## Expected Outcomes & Impact',
  experiment:
    'Design the experiment that tests the proposal, runnable on one machine. Write:\n' +
    '## Plan (datasets, baselines, metrics, ablations)\n' +
    '## Code: one self-contained Python script in a ```python block that runs the experiment, saves results as CSV/JSON ' +
    'and labelled figures under results/, and prints the metrics it measured.\n' +
    '## Expected Outputs (which files and figures the script produces).\n' +
    'Do not state any result: the numbers come only from running the code.',
  paper:
    'Write the paper for this research as markdown with these sections: Title, Abstract, Introduction, Related Work, Methodology, ' +
    'Experiment Setup, Results, Analysis, Conclusion, References. Report only results that appear in the experiment section; ' +
    'if the experiment was not run, say so in Results and do not make up numbers.',
};

const INPUT_TITLES: Record<StageName, string> = {
  idea: 'Research idea',
  literature: 'Literature review',
  proposal: 'Research proposal',
  experiment: 'Experiment',
  paper: 'Paper',
};

export function stagePrompt(stage: StageName, input: StagePromptInput): { system: string; prompt: string } {
  const parts = [INSTRUCTIONS[stage], `# Workshop call (task)\n\n${input.task.trim()}`];
  for (const [name, text] of Object.entries(input.inputs) as Array<[StageName, string]>) {
    parts.push(`# ${INPUT_TITLES[name]}\n\n${text.trim()}`);
  }
  if (input.revision) {
    parts.push(
      `# Your previous version (revision ${input.revision.number} requested)\n\n${input.revision.previous.trim()}`,
      `# Reviewer feedback — address all of it in a full new version\n\n${input.revision.feedback.trim()}`,
    );
  }
  return { system: SYSTEM, prompt: parts.join('\n\n---\n\n') };
}

/** Output token caps per stage; the embedded model gets a smaller cap (LAB_EMBEDDED_MAX_TOKENS) as it writes slowly. */
export const STAGE_MAX_TOKENS: Record<StageName, number> = {
  idea: 600,
  literature: 3000,
  proposal: 4000,
  experiment: 4000,
  paper: 6000,
};
