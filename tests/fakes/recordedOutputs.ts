/**
 * Realistic model output for scripted LLMs: MLR-Bench's published end-to-end outputs from
 * ../shared when present (real text of real size), else a deterministic stand-in.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { StageName } from '../../common/stages.js';
import type { FakeRequest } from './fakeLlmServer.js';
import { SHARED_DIR } from '../helpers/shared.js';
import { competitionStep, scriptedCompetitionReply } from './scriptedCompetition.js';
import { experimentStep, scriptedExperimentReply } from './scriptedExperiment.js';
import { scriptedJudgeReply } from './scriptedJudge.js';

const END2END = path.join(SHARED_DIR, 'mlrbench-results', 'end2end_claude', 'iclr2025_wsl');

const FILES: Record<StageName, string> = {
  idea: 'idea.md',
  literature: 'related_work.md',
  proposal: 'proposal.md',
  experiment: path.join('results', 'results.md'),
  paper: path.join('results', 'paper.md'),
};

/** Sizes of the published outputs (bytes), so the stand-ins weigh what real model text weighs. */
const STAND_IN_BYTES: Record<StageName, number> = { idea: 1_600, literature: 6_300, proposal: 17_800, experiment: 5_200, paper: 25_800 };

/**
 * What a scripted model answers to `prompt`: the recorded output of its stage, for the
 * experiment agent the scripted action of that step, for a judge a valid review (`system`
 * carries the answer's JSON Schema, used when the rubric is not a project file).
 */
export function scriptedReply(prompt: string, system = ''): string | undefined {
  const review = scriptedJudgeReply(prompt, system);
  if (review !== undefined) return review;
  const step = experimentStep(prompt);
  if (step !== undefined) return scriptedExperimentReply(step);
  const competition = competitionStep(prompt);
  if (competition !== undefined) return scriptedCompetitionReply(competition);
  if (prompt.startsWith('Choose literature search queries')) return JSON.stringify({ queries: ['calibration distribution shift', 'uncertainty estimation'] });
  if (prompt.startsWith('Rank the retrieved papers')) {
    // Keep the first five listed records, as a model would keep the most relevant.
    const ids = [...prompt.matchAll(/^- id: (\S+)/gm)].map((m) => m[1]).slice(0, 5);
    return JSON.stringify({ selected: ids.map((id) => ({ id, why: 'closely related' })) });
  }
  const stage = stageOfPrompt(prompt);
  return stage ? recordedOutput(stage) : undefined;
}

export function recordedOutput(stage: StageName): string {
  const file = path.join(END2END, FILES[stage]);
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const paragraphs: string[] = [];
  for (let i = 1, bytes = 0; bytes < STAND_IN_BYTES[stage]; i++) {
    const p = `Paragraph ${i} of the recorded ${stage} stand-in. It takes the place of published model output when the shared test data is absent, ` +
      `and is as long as that output, so history-size checks compare like with like.`;
    paragraphs.push(p);
    bytes += p.length + 2;
  }
  return `# Recorded ${stage}\n\n${paragraphs.join('\n\n')}\n`;
}

/** Which stage a prompt belongs to, from the instruction each stage prompt opens with. */
export function stageOfPrompt(prompt: string): StageName | undefined {
  if (prompt.startsWith('Propose one research idea')) return 'idea';
  if (/^Experiment step \d+ of/m.test(prompt)) return 'experiment';
  if (prompt.startsWith('Choose literature search queries') || prompt.startsWith('Rank the retrieved papers')) return 'literature';
  if (prompt.startsWith('Write a literature review')) return 'literature';
  if (prompt.startsWith('Write a full research proposal')) return 'proposal';
  if (prompt.startsWith('Design the experiment')) return 'experiment';
  if (prompt.startsWith('Write the paper')) return 'paper';
  return undefined;
}

/**
 * The fake LLM's script for review tests: every request answered as `scriptedReply` would, except
 * that the model named `brokenJudge` gives valid JSON whose scores are all 0 (out of range), so its
 * re-ask fails too; a prompt with no scripted answer gets a 400.
 */
export function judgeScript(brokenJudge: string) {
  return (req: FakeRequest) => {
    const firstUser = (req.body.messages ?? []).find((m: { role: string }) => m.role === 'user');
    const prompt = typeof firstUser?.content === 'string' ? firstUser.content : req.prompt;
    const valid = scriptedReply(prompt, req.system);
    if (req.body.model === brokenJudge && valid) {
      const answer = JSON.parse(valid);
      for (const value of Object.values(answer)) if (value && typeof value === 'object' && 'score' in value) (value as { score: number }).score = 0;
      return { text: JSON.stringify(answer) };
    }
    return valid === undefined ? { status: 400, body: { error: { message: 'no scripted answer' } } } : { text: valid };
  };
}
