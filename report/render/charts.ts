/**
 * The report's figures as SVG text: Vega-Lite specs compiled and rendered headless by Vega
 * (renderer 'none' draws straight to an SVG string; no canvas, no browser, no native module).
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ReviewKind } from '../../common/reviews.js';
import type { ReportData } from '../buildReport.js';
import { judgeLabel } from '../calibration.js';
import { compareDimensions } from '../dimensions.js';
import { agentLabel, type JudgeAgreement, type JudgePair } from '../leaderboard.js';
import { fixed } from '../stats.js';
import { KIND_TITLES, scoresTableName } from '../tables.js';

export interface ChartFile {
  /** File name, `<name>.svg`. */
  file: string;
  title: string;
  /** The table this chart illustrates (markdown and HTML place it there). */
  table: string;
  svg: string;
}

const QUIET = vega.logger(vega.None);

export async function renderCharts(report: ReportData): Promise<ChartFile[]> {
  const charts: ChartFile[] = [];
  for (const kind of report.summary.kinds) {
    const spec = scoresBarSpec(report, kind);
    if (spec) charts.push({ file: `${scoresTableName(kind)}.svg`, title: `${KIND_TITLES[kind]} scores by dimension`, table: scoresTableName(kind), svg: await toSvg(spec) });
  }
  const groups = judgePairGroups(report);
  for (const { agreement, pairs, file } of groups) {
    const title = `${KIND_TITLES[agreement.kind]}${agreement.variant ? ` (${agreement.variant})` : ''}: ${judgeLabel(agreement.judgeA, report.calibration)} vs ${judgeLabel(agreement.judgeB, report.calibration)}`;
    charts.push({ file, title, table: 'judge_agreement', svg: await toSvg(judgeScatterSpec(agreement, pairs, title)) });
  }
  for (const variant of [...new Set(report.judgesVsMetric.map((c) => c.variant))]) {
    const spec = judgesVersusMetricSpec(report, variant);
    if (spec) charts.push({ file: `judges_vs_metric_${fileSafe(variant)}.svg`, title: `MLRC rubric (${variant}) vs measured improvement`, table: 'judges_vs_metric', svg: await toSvg(spec) });
  }
  return charts;
}

/** One point per scored competition run: the judges' mean MLRC score against the measured relative improvement. */
export function judgesVersusMetricSpec(report: ReportData, variant: string): TopLevelSpec | undefined {
  const improvement = new Map(report.objective.filter((o) => o.status === 'scored' && o.relativeImprovement !== undefined).map((o) => [o.runId, o]));
  const values: Array<{ improvement: number; judges: number; agent: string; task: string }> = [];
  const byRun = new Map<string, number[]>();
  for (const s of report.mlrcScores.filter((m) => m.variant === variant)) byRun.set(s.runId, [...(byRun.get(s.runId) ?? []), s.score]);
  for (const [runId, scores] of byRun) {
    const o = improvement.get(runId);
    if (o) values.push({ improvement: o.relativeImprovement!, judges: scores.reduce((a, b) => a + b, 0) / scores.length, agent: o.agent, task: o.task });
  }
  if (values.length < 2) return undefined;
  return {
    title: { text: `MLRC rubric (${variant}) vs measured improvement`, subtitle: 'one point per scored run: mean of the judges\' five MLRC dimensions (1–5) against the relative improvement on the hidden test split' },
    width: 320,
    height: 260,
    data: { values },
    mark: { type: 'circle', opacity: 0.8, size: 80 },
    encoding: {
      x: { field: 'improvement', type: 'quantitative', title: 'relative improvement (%)' },
      y: { field: 'judges', type: 'quantitative', title: 'judges\' mean MLRC score', scale: { domain: [1, 5] } },
      color: { field: 'agent', type: 'nominal', scale: { scheme: 'tableau10' } },
      tooltip: [{ field: 'task' }, { field: 'agent' }],
    },
  } as TopLevelSpec;
}

export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec, { logger: QUIET }).spec), { renderer: 'none', logLevel: vega.None });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Grouped bars: one group per dimension, one bar per agent, a rule for ± standard error. */
export function scoresBarSpec(report: ReportData, kind: ReviewKind): TopLevelSpec | undefined {
  const stats = report.stats.filter((s) => s.kind === kind);
  if (!stats.length) return undefined;
  const dimensions = [...new Set(stats.map((s) => s.dimension))].sort(compareDimensions);
  const short = legendLabels([...new Set(stats.map((s) => s.agent))]);
  const label = (s: { agent: string; variant?: string }) => agentLabel(short.get(s.agent) ?? s.agent, s.variant);
  const agents = [...new Set(stats.map(label))];
  const values = stats.map((s) => ({
    dimension: s.dimension,
    agent: label(s),
    mean: s.mean,
    low: s.standardError === undefined ? null : s.mean - s.standardError,
    high: s.standardError === undefined ? null : s.mean + s.standardError,
  }));
  return {
    title: `${KIND_TITLES[kind]} scores by dimension (mean of judge means, ± standard error over tasks)`,
    data: { values },
    width: { step: Math.max(6, Math.round(60 / agents.length)) },
    height: 260,
    encoding: {
      x: { field: 'dimension', type: 'nominal', sort: dimensions, title: null, axis: { labelAngle: 0 } },
      xOffset: { field: 'agent', type: 'nominal', sort: agents },
      // No label limit: Vega's default (160 px) cut every `openai-compatible:…` agent to the same text.
      color: { field: 'agent', type: 'nominal', sort: agents, title: 'agent', scale: { scheme: 'tableau10' }, legend: { labelLimit: 0 } },
    },
    layer: [
      // The rubric's whole scale, so bars of different reports compare by eye (MLRC's is 1–5, the others 1–10).
      { mark: 'bar', encoding: { y: { field: 'mean', type: 'quantitative', title: 'score', scale: { domain: [0, kind === 'mlrc' ? 5 : 10] } } } },
      {
        transform: [{ filter: 'datum.low != null' }],
        mark: { type: 'rule', color: '#333' },
        encoding: { y: { field: 'low', type: 'quantitative' }, y2: { field: 'high' } },
      },
    ],
  } as TopLevelSpec;
}

const PROVIDER_PREFIX = /^(openai|anthropic|openrouter|openai-compatible|embedded):/;

/**
 * Legend labels that tell agents apart in as few characters as the set allows: the shortest of
 * (model's last part, model, model@endpoint, full spec) that is distinct for every agent, the
 * same level for all. `openai-compatible:qwen2.5:7b@http://h:8000/v1` is `qwen2.5:7b` beside
 * another model, and keeps its endpoint beside the same model served elsewhere.
 */
export function legendLabels(agents: string[]): Map<string, string> {
  const levels = (agent: string): string[] => {
    const noProvider = agent.replace(PROVIDER_PREFIX, '');
    const at = agent.startsWith('openai-compatible:') ? noProvider.lastIndexOf('@') : -1;
    const model = at > 0 ? noProvider.slice(0, at) : noProvider;
    const last = model.split('/').filter(Boolean).pop() ?? model;
    return [last.replace(/\.gguf$/i, ''), model, noProvider, agent];
  };
  const all = agents.map(levels);
  for (let level = 0; level < 4; level++) {
    const labels = all.map((l) => l[level]);
    if (labels.every(Boolean) && new Set(labels).size === new Set(agents).size) return new Map(agents.map((a, i) => [a, labels[i]]));
  }
  return new Map(agents.map((a) => [a, a]));
}

/** Judge A's overall score against judge B's, one circle per score pair sized by how many outputs share it. */
export function judgeScatterSpec(agreement: JudgeAgreement, pairs: JudgePair[], title: string): TopLevelSpec {
  const counts = new Map<string, { a: number; b: number; outputs: number }>();
  for (const p of pairs) {
    const key = `${p.scoreA}|${p.scoreB}`;
    const c = counts.get(key) ?? { a: p.scoreA, b: p.scoreB, outputs: 0 };
    c.outputs++;
    counts.set(key, c);
  }
  const all = pairs.flatMap((p) => [p.scoreA, p.scoreB]);
  const domain = [Math.max(0, Math.floor(Math.min(...all)) - 1), Math.ceil(Math.max(...all)) + 1];
  // Both layers name the scale: a layer without it would widen the shared axis to zero.
  const scale = { domain, nice: false, zero: false };
  const r = agreement.pearson === undefined ? 'r undefined (no spread)' : `Pearson r = ${fixed(agreement.pearson, 3)}`;
  return {
    title: { text: title, subtitle: `${r}, ${agreement.nPairs} outputs; dashed line: equal scores` },
    width: 300,
    height: 300,
    layer: [
      {
        data: { values: domain.map((v) => ({ v })) },
        mark: { type: 'line', strokeDash: [4, 4], color: '#999' },
        encoding: { x: { field: 'v', type: 'quantitative', scale }, y: { field: 'v', type: 'quantitative', scale } },
      },
      {
        data: { values: [...counts.values()] },
        mark: { type: 'circle', opacity: 0.7, color: '#4c78a8' },
        encoding: {
          x: { field: 'a', type: 'quantitative', title: `${agreement.judgeA} (overall)`, scale },
          y: { field: 'b', type: 'quantitative', title: `${agreement.judgeB} (overall)`, scale },
          size: { field: 'outputs', type: 'quantitative', title: 'outputs', scale: { zero: false, range: [30, 900] } },
        },
      },
    ],
  } as TopLevelSpec;
}

/** One scatter per (kind, variant, judge pair); the file name carries the judges only when a kind has several pairs. */
function judgePairGroups(report: ReportData): { agreement: JudgeAgreement; pairs: JudgePair[]; file: string }[] {
  const groups = report.agreement.map((agreement) => ({
    agreement,
    pairs: report.judgePairs.filter(
      (p) => p.kind === agreement.kind && p.variant === agreement.variant && p.judgeA === agreement.judgeA && p.judgeB === agreement.judgeB,
    ),
  }));
  const base = (a: JudgeAgreement) => `judges_${a.kind}${a.variant ? `_${fileSafe(a.variant)}` : ''}`;
  return groups.map((g) => {
    const several = groups.filter((o) => base(o.agreement) === base(g.agreement)).length > 1;
    const file = several ? `${base(g.agreement)}_${fileSafe(g.agreement.judgeA)}_vs_${fileSafe(g.agreement.judgeB)}.svg` : `${base(g.agreement)}.svg`;
    return { ...g, file };
  });
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
}
