/**
 * Judge-only benchmarks review outputs that already exist. Two layouts are understood:
 * MLR-Bench's published ideas and proposals (`ideas_and_proposals/<task>/idea/idea_<model>.md`,
 * every model side by side) and folders of one agent's outputs per task (`<task>/idea.md`, ...).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ReviewKind } from '../../common/reviews.js';
import { documentsInFolder, missingDocuments } from '../judge/documents.js';

export type OutputsLayout = 'mlrbench-published' | 'task-folders';

export interface FoundOutputs {
  layout: OutputsLayout;
  /** The folder holding one folder per task. */
  root: string;
  /** The agents (models) whose outputs are there. */
  agents: string[];
  /** Which (task, agent) pairs have outputs, by task. */
  has(task: string, agent: string): Promise<boolean>;
}

export class OutputsError extends Error {}

/** Finds the layout of `folder` (the published `mlrbench-results`, its `ideas_and_proposals`, or task folders). */
export async function findOutputs(folder: string, kinds: ReviewKind[]): Promise<FoundOutputs> {
  const resolved = path.resolve(folder);
  if (!(await isDirectory(resolved))) throw new OutputsError(`outputs folder not found: ${folder}`);
  for (const candidate of [path.join(resolved, 'ideas_and_proposals'), resolved]) {
    const agents = await publishedAgents(candidate);
    if (agents.length) {
      return {
        layout: 'mlrbench-published',
        root: candidate,
        agents,
        has: async (task, agent) => {
          const needed = kinds.map((kind) => (kind === 'proposal' ? `proposal/proposal_${agent}.md` : `idea/idea_${agent}.md`));
          return (await Promise.all(needed.map((f) => isFile(path.join(candidate, task, f))))).every(Boolean);
        },
      };
    }
  }
  // One agent's run folders: the folder's name names the agent (e.g. `end2end_claude`).
  return {
    layout: 'task-folders',
    root: resolved,
    agents: [path.basename(resolved)],
    has: async (task) => {
      // The task text comes from the task set, so a folder without task.md still has what a review needs.
      const present = [...documentsInFolder(path.join(resolved, task)), 'task' as const];
      return kinds.every((kind) => !missingDocuments(kind, present).length);
    },
  };
}

/** Model names of the published layout, from the idea files of the first task folder that has them. */
async function publishedAgents(root: string): Promise<string[]> {
  const tasks = await fs.readdir(root, { withFileTypes: true }).catch(() => []);
  for (const t of tasks) {
    if (!t.isDirectory()) continue;
    const ideas = await fs.readdir(path.join(root, t.name, 'idea')).catch(() => [] as string[]);
    const agents = ideas.filter((f) => /^idea_.+\.md$/.test(f)).map((f) => f.slice('idea_'.length, -'.md'.length));
    if (agents.length) return agents.sort();
  }
  return [];
}

async function isDirectory(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isDirectory(), () => false);
}

async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isFile(), () => false);
}
