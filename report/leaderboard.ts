/**
 * The leaderboard's numbers from review records and run costs. Pure.
 *
 * Scores follow MLR-Bench's method: for each judge, the mean over the tasks it scored; then the
 * mean of those judge means. The standard error is over tasks: each task's mean over the judges
 * that scored it, then sd / √n of those per-task means (sample sd). When every judge scored every
 * task the two means agree; when coverage is uneven they can differ slightly.
 */
import { REVIEW_KINDS, type ReviewKind } from '../common/reviews.js';
import { compareDimensions, overallDimension } from './dimensions.js';
import { mean, pearson, standardError } from './stats.js';
import type { ItemFailure, ReviewRecord, RunCostRecord } from './types.js';

export interface JudgeMean {
  judge: string;
  mean: number;
  nTasks: number;
}

export interface DimensionStat {
  kind: ReviewKind;
  variant?: string;
  agent: string;
  dimension: string;
  /** Mean over judges of each judge's mean over tasks. */
  mean: number;
  /** Standard error over tasks of the per-task judge-mean; undefined with fewer than two tasks. */
  standardError?: number;
  /** Tasks scored by at least one judge. */
  nTasks: number;
  judgeMeans: JudgeMean[];
}

/** Two judges' overall scores of one output: a point of the judge-vs-judge scatter. */
export interface JudgePair {
  kind: ReviewKind;
  variant?: string;
  agent: string;
  task: string;
  judgeA: string;
  judgeB: string;
  scoreA: number;
  scoreB: number;
}

export interface JudgeAgreement {
  kind: ReviewKind;
  variant?: string;
  judgeA: string;
  judgeB: string;
  nPairs: number;
  /** Pearson's r of the two judges' overall scores; undefined with no spread or under two pairs. */
  pearson?: number;
  /** Mean of judge A's score minus judge B's. */
  meanDifference: number;
  meanAbsoluteDifference: number;
}

export interface AgentCost {
  agent: string;
  runs: number;
  tasks: number;
  completedRuns: number;
  totalCostUsd: number;
  /** Totals divided by the number of distinct tasks (repeated runs of a task add up). */
  costPerTaskUsd: number;
  inputTokensPerTask: number;
  outputTokensPerTask: number;
  llmCallsPerTask: number;
}

export interface FailureCount {
  agent: string;
  part: string;
  count: number;
}

export interface HallucinationRate {
  kind: ReviewKind;
  variant?: string;
  agent: string;
  /** Judge answers that said whether there was hallucinated content. */
  judged: number;
  flagged: number;
  share: number;
}

/** Kinds in report order: the end-to-end result first, then the stages it is made of. */
export const KIND_ORDER: ReviewKind[] = ['end_to_end', ...REVIEW_KINDS.filter((k) => k !== 'end_to_end')];

export function agentLabel(agent: string, variant?: string): string {
  return variant ? `${agent} (${variant})` : agent;
}

/** Per (kind, variant, agent, dimension): judge means, their mean, and the standard error over tasks. */
export function dimensionStats(records: ReviewRecord[]): DimensionStat[] {
  // key → judge → task → scores (a repeated review of one output by one judge is averaged)
  const groups = new Map<string, { head: Omit<DimensionStat, 'mean' | 'standardError' | 'nTasks' | 'judgeMeans'>; byJudge: Map<string, Map<string, number[]>> }>();
  for (const r of records) {
    for (const [dimension, score] of Object.entries(r.scores)) {
      const key = groupKey(r.kind, r.variant, r.agent, dimension);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { head: withVariant({ kind: r.kind, agent: r.agent, dimension }, r.variant), byJudge: new Map() }));
      const byTask = group.byJudge.get(r.judge) ?? new Map<string, number[]>();
      group.byJudge.set(r.judge, byTask);
      pushTo(byTask, r.task, score);
    }
  }
  const stats: DimensionStat[] = [];
  for (const { head, byJudge } of groups.values()) {
    const judgeMeans: JudgeMean[] = [...byJudge.entries()]
      .map(([judge, byTask]) => ({ judge, mean: mean([...byTask.values()].map(mean)), nTasks: byTask.size }))
      .sort((a, b) => a.judge.localeCompare(b.judge));
    const tasks = new Set([...byJudge.values()].flatMap((byTask) => [...byTask.keys()]));
    const perTaskMeans = [...tasks].map((task) => mean([...byJudge.values()].filter((b) => b.has(task)).map((b) => mean(b.get(task)!))));
    const stat: DimensionStat = { ...head, mean: mean(judgeMeans.map((j) => j.mean)), nTasks: tasks.size, judgeMeans };
    const se = standardError(perTaskMeans);
    if (se !== undefined) stat.standardError = se;
    stats.push(stat);
  }
  return stats.sort(compareStats);
}

/** Every pair of judges that scored the same output, with their overall scores. */
export function judgePairs(records: ReviewRecord[]): JudgePair[] {
  const outputs = new Map<string, { head: Pick<JudgePair, 'kind' | 'variant' | 'agent' | 'task'>; byJudge: Map<string, number[]> }>();
  for (const r of records) {
    const dimension = overallDimension(r.scores);
    if (!dimension) continue;
    const key = groupKey(r.kind, r.variant, r.agent, r.task);
    let output = outputs.get(key);
    if (!output) outputs.set(key, (output = { head: withVariant({ kind: r.kind, agent: r.agent, task: r.task }, r.variant), byJudge: new Map() }));
    pushTo(output.byJudge, r.judge, r.scores[dimension]);
  }
  const pairs: JudgePair[] = [];
  for (const { head, byJudge } of outputs.values()) {
    const judges = [...byJudge.keys()].sort();
    for (let i = 0; i < judges.length; i++) {
      for (let j = i + 1; j < judges.length; j++) {
        pairs.push({ ...head, judgeA: judges[i], judgeB: judges[j], scoreA: mean(byJudge.get(judges[i])!), scoreB: mean(byJudge.get(judges[j])!) });
      }
    }
  }
  return pairs.sort(
    (a, b) =>
      kindRank(a.kind) - kindRank(b.kind) ||
      (a.variant ?? '').localeCompare(b.variant ?? '') ||
      a.judgeA.localeCompare(b.judgeA) ||
      a.judgeB.localeCompare(b.judgeB) ||
      a.agent.localeCompare(b.agent) ||
      a.task.localeCompare(b.task),
  );
}

/** Per (kind, variant, judge pair): how well the judges' overall scores agree. */
export function judgeAgreement(pairs: JudgePair[]): JudgeAgreement[] {
  const groups = new Map<string, JudgePair[]>();
  for (const p of pairs) {
    const key = groupKey(p.kind, p.variant, p.judgeA, p.judgeB);
    pushTo(groups, key, p);
  }
  return [...groups.values()].map((group) => {
    const { kind, variant, judgeA, judgeB } = group[0];
    const xs = group.map((p) => p.scoreA);
    const ys = group.map((p) => p.scoreB);
    const agreement: JudgeAgreement = withVariant(
      {
        kind,
        judgeA,
        judgeB,
        nPairs: group.length,
        meanDifference: mean(group.map((p) => p.scoreA - p.scoreB)),
        meanAbsoluteDifference: mean(group.map((p) => Math.abs(p.scoreA - p.scoreB))),
      },
      variant,
    );
    const r = pearson(xs, ys);
    if (r !== undefined) agreement.pearson = r;
    return agreement;
  });
}

/** Cost, tokens and LLM calls per task, per agent. */
export function costPerAgent(runs: RunCostRecord[]): AgentCost[] {
  const byAgent = new Map<string, RunCostRecord[]>();
  for (const r of runs) pushTo(byAgent, r.agent, r);
  return [...byAgent.entries()]
    .map(([agent, rs]) => {
      const tasks = new Set(rs.map((r) => r.task)).size;
      const total = (pick: (r: RunCostRecord) => number) => rs.reduce((a, r) => a + pick(r), 0);
      return {
        agent,
        runs: rs.length,
        tasks,
        completedRuns: rs.filter((r) => r.status === 'completed').length,
        totalCostUsd: total((r) => r.costUsd),
        costPerTaskUsd: total((r) => r.costUsd) / tasks,
        inputTokensPerTask: total((r) => r.inputTokens) / tasks,
        outputTokensPerTask: total((r) => r.outputTokens) / tasks,
        llmCallsPerTask: total((r) => r.llmCalls) / tasks,
      };
    })
    .sort((a, b) => a.agent.localeCompare(b.agent));
}

export function failureCounts(failures: ItemFailure[]): FailureCount[] {
  const counts = new Map<string, FailureCount>();
  for (const f of failures) {
    const key = groupKey(f.agent, f.part);
    const c = counts.get(key) ?? { agent: f.agent, part: f.part, count: 0 };
    c.count++;
    counts.set(key, c);
  }
  return [...counts.values()].sort((a, b) => a.agent.localeCompare(b.agent) || a.part.localeCompare(b.part));
}

/** Share of judge answers that flagged hallucinated content, over all judges' answers pooled. */
export function hallucinationRates(records: ReviewRecord[]): HallucinationRate[] {
  const groups = new Map<string, HallucinationRate>();
  for (const r of records) {
    if (r.hasHallucination === undefined) continue;
    const key = groupKey(r.kind, r.variant, r.agent);
    const g = groups.get(key) ?? withVariant({ kind: r.kind, agent: r.agent, judged: 0, flagged: 0, share: 0 }, r.variant);
    g.judged++;
    if (r.hasHallucination) g.flagged++;
    g.share = g.flagged / g.judged;
    groups.set(key, g);
  }
  return [...groups.values()].sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || (a.variant ?? '').localeCompare(b.variant ?? '') || a.agent.localeCompare(b.agent));
}

export function kindRank(kind: ReviewKind): number {
  return KIND_ORDER.indexOf(kind);
}

function compareStats(a: DimensionStat, b: DimensionStat): number {
  return (
    kindRank(a.kind) - kindRank(b.kind) ||
    (a.variant ?? '').localeCompare(b.variant ?? '') ||
    a.agent.localeCompare(b.agent) ||
    compareDimensions(a.dimension, b.dimension)
  );
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function groupKey(...parts: (string | undefined)[]): string {
  return parts.map((p) => p ?? '').join('\u0000');
}

/** Adds `variant` only when there is one, so records without a variant compare equal to plain objects. */
function withVariant<T extends object>(value: T, variant: string | undefined): T & { variant?: string } {
  return variant === undefined ? value : { ...value, variant };
}
