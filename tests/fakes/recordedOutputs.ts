/**
 * Realistic model output for scripted LLMs: MLR-Bench's published end-to-end outputs from
 * ../shared when present (real text of real size), else a deterministic stand-in.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StageName } from '../../common/stages.js';

const SHARED = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'shared');
const END2END = path.join(SHARED, 'mlrbench-results', 'end2end_claude', 'iclr2025_wsl');

const FILES: Record<StageName, string> = {
  idea: 'idea.md',
  literature: 'related_work.md',
  proposal: 'proposal.md',
  experiment: path.join('results', 'results.md'),
  paper: path.join('results', 'paper.md'),
};

export function recordedOutput(stage: StageName): string {
  const file = path.join(END2END, FILES[stage]);
  if (existsSync(file)) return readFileSync(file, 'utf8');
  const body = Array.from({ length: 40 }, (_, i) => `Paragraph ${i + 1} of the recorded ${stage}: stand-in text for tests.`).join('\n\n');
  return `# Recorded ${stage}\n\n${body}\n`;
}

/** Which stage a prompt belongs to, from the instruction each stage prompt opens with. */
export function stageOfPrompt(prompt: string): StageName | undefined {
  if (prompt.startsWith('Propose one research idea')) return 'idea';
  if (prompt.startsWith('Write a literature review')) return 'literature';
  if (prompt.startsWith('Write a full research proposal')) return 'proposal';
  if (prompt.startsWith('Design the experiment')) return 'experiment';
  if (prompt.startsWith('Write the paper')) return 'paper';
  return undefined;
}
