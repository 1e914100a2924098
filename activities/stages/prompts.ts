/**
 * Stage prompts, written for this project after MLR-Agent's stage contracts
 * (see shared/mlr-judge-rubrics.md): what each stage reads and the shape it must write.
 */
import type { StageName } from '../../common/stages.js';
import { digest } from '../experiment/digest.js';

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

/**
 * A small model (the embedded one) is asked for shorter texts with the same sections, and reads
 * digests of long inputs: a 1.5B model writing 2,000 words at 11 tokens/s takes most of the
 * demo's time and drifts, and its context is 8K tokens.
 */
const SHORT_LENGTHS: Partial<Record<StageName, [string, string]>> = {
  proposal: ['(about 2000 words)', '(about 450 words)'],
  paper: ['as markdown with these sections', 'as markdown (about 700 words in all) with these sections'],
};
/** Characters of each input a small model reads (a digest of its sections); `other` is for the task and any input not named. */
const SHORT_INPUT_CHARS: Partial<Record<StageName, number>> & { other: number } = { idea: 1500, literature: 1500, proposal: 2500, experiment: 4000, other: 2500 };

/** What ends every stage prompt: the instruction again, so a model answers it rather than continuing the inputs as a document. */
const CLOSING: Record<StageName, string> = {
  idea: 'Now write the research idea (at most 200 words), starting with its "# " title line.',
  literature: 'Now write the literature review, starting with its first paper.',
  proposal: 'Now write the research proposal, starting with its "# " title line. Do not repeat the inputs above.',
  experiment: 'Now write the experiment plan, code and expected outputs.',
  paper: 'Now write the paper, starting with its "# " title line. Report only numbers that appear in the experiment\'s results above.',
};

export function stagePrompt(stage: StageName, input: StagePromptInput, options: { short?: boolean } = {}): { system: string; prompt: string } {
  const short = options.short ?? false;
  const [long, brief] = (short && SHORT_LENGTHS[stage]) || ['', ''];
  const instructions = long ? INSTRUCTIONS[stage].replace(long, brief) : INSTRUCTIONS[stage];
  const shorten = (name: StageName | 'task', text: string) => (short ? digest(text, name === 'task' ? SHORT_INPUT_CHARS.other : SHORT_INPUT_CHARS[name] ?? SHORT_INPUT_CHARS.other) : text.trim());
  const parts = [instructions, `# Workshop call (task)\n\n${shorten('task', input.task)}`];
  for (const [name, text] of Object.entries(input.inputs) as Array<[StageName, string]>) {
    parts.push(`# ${INPUT_TITLES[name]}\n\n${shorten(name, text)}`);
  }
  if (input.revision) {
    parts.push(
      `# Your previous version (revision ${input.revision.number} requested)\n\n${input.revision.previous.trim()}`,
      `# Reviewer feedback — address all of it in a full new version\n\n${input.revision.feedback.trim()}`,
    );
  }
  return { system: SYSTEM, prompt: parts.join('\n\n---\n\n') };
}

/** The last lines of a stage's prompt (after any extra material the stage adds). */
export function closingInstruction(stage: StageName): string {
  return CLOSING[stage];
}

/** Output tokens per call for the embedded model: a little above the shorter texts it is asked for (LAB_EMBEDDED_MAX_TOKENS overrides). */
export const EMBEDDED_STAGE_MAX_TOKENS: Record<StageName, number> = {
  idea: 450,
  literature: 1200,
  proposal: 900,
  experiment: 1200,
  paper: 1400,
};

/** Output token caps per stage. */
export const STAGE_MAX_TOKENS: Record<StageName, number> = {
  idea: 600,
  literature: 3000,
  proposal: 4000,
  experiment: 4000,
  paper: 6000,
};
