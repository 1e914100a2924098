/**
 * Does a source value's key fit what the sentence or table names? A claim names a metric
 * ("accuracy") and often a method ("CEVA Full"); a value's key path, column, row and file name
 * name theirs. The same value under another metric or another method does not support the claim.
 * Pure.
 */
import type { Claim, SourceValue } from './types.js';

/** Metric families: a claim's metric and a key's metric fit when they are in one family. */
const METRICS: Array<[string, RegExp]> = [
  ['accuracy', /^(?:acc|accuracy|accuracies|top1|top5|em|exactmatch)$/],
  ['f1', /^(?:f1|fscore|f1score|macrof1|microf1|weightedf1)$/],
  ['precision', /^(?:precision|prec|ppv)$/],
  ['recall', /^(?:recall|sensitivity|tpr|hitrate|hit)$/],
  ['auc', /^(?:auc|auroc|roc|rocauc|auprc|prauc|ap|averageprecision)$/],
  ['loss', /^(?:loss|losses|nll|crossentropy|ce)$/],
  ['rmse', /^(?:rmse)$/],
  ['mae', /^(?:mae)$/],
  ['mse', /^(?:mse)$/],
  ['r2', /^(?:r2|rsquared)$/],
  ['time', /^(?:time|times|seconds|secs?|latency|duration|runtime|ms|ttft|wallclock|elapsed)$/],
  ['throughput', /^(?:throughput|tokenspersecond|tps|qps|speed)$/],
  ['memory', /^(?:memory|mem|mb|gb|bytes|footprint|vram)$/],
  ['bleu', /^(?:bleu)$/],
  ['rouge', /^(?:rouge)$/],
  ['rougel', /^(?:rougel|rougelsum)$/],
  ['rouge1', /^(?:rouge1)$/],
  ['rouge2', /^(?:rouge2)$/],
  ['perplexity', /^(?:perplexity|ppl)$/],
  ['reward', /^(?:reward|rewards|return|returns)$/],
  ['calibration', /^(?:ece|calibration|brier)$/],
  ['correlation', /^(?:correlation|corr|pearson|spearman|kendall|tau)$/],
  ['std', /^(?:std|stdev|stddev|deviation|sd|variance|var|sem|ci)$/],
  ['specificity', /^(?:specificity|tnr)$/],
  ['fpr', /^(?:fpr|falsepositive|falsepositives)$/],
  ['fnr', /^(?:fnr|falsenegative|falsenegatives)$/],
  ['coverage', /^(?:coverage)$/],
  ['hallucination', /^(?:hallucination|hallucinations|hallucinationrate)$/],
  // Outcome nouns of agent and alignment studies: a sentence names them as it names accuracy.
  ['satisfaction', /^(?:satisfaction)$/],
  ['stability', /^(?:stability)$/],
  ['agency', /^(?:agency|preservation)$/],
  ['trust', /^(?:trust|trustworthiness)$/],
  ['fluency', /^(?:fluency)$/],
  ['coherence', /^(?:coherence)$/],
  ['diversity', /^(?:diversity)$/],
  ['robustness', /^(?:robustness)$/],
  ['fairness', /^(?:fairness|bias)$/],
  ['toxicity', /^(?:toxicity)$/],
  ['faithfulness', /^(?:faithfulness|groundedness)$/],
  ['relevance', /^(?:relevance)$/],
  ['efficiency', /^(?:efficiency)$/],
];

/** Words that name neither a metric nor a method. */
const GENERIC = new Set(
  'results result metrics metric mean avg average final test val valid validation train training overall summary value values score scores data total per the of and a an for in on with by to run runs model models method methods eval evaluation performance experiment experiments json csv txt log md baseline_results all best rate ratio count number num n k x y id index step epoch iteration config main'.split(
    ' ',
  ),
);

export const normalise = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '');

/** Words of a key, a column or a sentence: split at non-letters and camelCase. */
export function words(s: string): string[] {
  return s
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

function metricOf(word: string): string | undefined {
  for (const [family, re] of METRICS) if (re.test(word)) return family;
  return undefined;
}

/** Metric families named in `text`, in order of appearance, with where. */
function metricsIn(text: string): Array<{ family: string; at: number }> {
  const found: Array<{ family: string; at: number }> = [];
  const re = /[A-Za-z][A-Za-z0-9-]*/g;
  for (const m of text.matchAll(re)) {
    const w = normalise(m[0]);
    const family = metricOf(w);
    if (family) found.push({ family, at: m.index! });
  }
  // Two-word names.
  for (const m of text.matchAll(/\b(?:f1[ -]score|error rate|false positive|false negative|exact match|mean squared error|tokens per second|r\^?2|time to (?:first )?(?:token|solution))\b/gi)) {
    const phrase = m[0].toLowerCase();
    const family = /f1/.test(phrase) ? 'f1' : /positive/.test(phrase) ? 'fpr' : /negative/.test(phrase) ? 'fnr' : /exact/.test(phrase) ? 'accuracy' : /squared/.test(phrase) ? 'mse' : /tokens/.test(phrase) ? 'throughput' : /time/.test(phrase) ? 'time' : /r\^?2/.test(phrase) ? 'r2' : 'error';
    found.push({ family, at: m.index! });
  }
  return found;
}

/** The method names the sources use (row labels, record names, key segments), for finding them in sentences. */
export class MethodNames {
  private names = new Map<string, string>();

  addFrom(v: SourceValue): void {
    for (const c of nameParts(v)) {
      const n = normalise(c);
      if (!this.names.has(n)) this.names.set(n, c);
    }
  }

  /** Known names that `text` mentions, with where (longest first where two overlap). */
  mentionedIn(text: string, except?: string): Array<{ name: string; at: number }> {
    const flat: number[] = [];
    let squashed = '';
    for (let i = 0; i < text.length; i++) {
      if (/[A-Za-z0-9]/.test(text[i])) {
        squashed += text[i].toLowerCase();
        flat.push(i);
      }
    }
    const found: Array<{ name: string; at: number; end: number }> = [];
    for (const n of this.names.keys()) {
      if (n === except) continue;
      for (let i = squashed.indexOf(n); i >= 0; i = squashed.indexOf(n, i + 1)) {
        const start = flat[i];
        const end = flat[i + n.length - 1];
        // Whole words only: "ceva" is not in "cevafull" unless the name is.
        const okStart = start === 0 || !/[A-Za-z0-9]/.test(text[start - 1]);
        const okEnd = end === text.length - 1 || !/[A-Za-z0-9]/.test(text[end + 1]) || /[_-]/.test(text[end + 1]);
        if (okStart && okEnd) found.push({ name: n, at: start, end });
      }
    }
    found.sort((a, b) => b.end - b.at - (a.end - a.at));
    const kept: typeof found = [];
    for (const f of found) if (!kept.some((k) => f.at <= k.end && f.end >= k.at)) kept.push(f);
    return kept.map(({ name, at }) => ({ name, at }));
  }

  /** The names a source value belongs to: known names inside its row label and record keys. */
  of(v: SourceValue): Set<string> {
    const out = new Set<string>();
    const file = v.file.replace(/^.*\//, '').replace(/\.\w+$/, '').replace(/_results?$/, '');
    for (const c of [...nameParts(v), file]) {
      const whole = normalise(c);
      // "User Satisfaction adaptive_alignment" belongs to adaptive_alignment, a name of its own elsewhere.
      const inner = this.mentionedIn(c, whole).map((m) => m.name);
      if (inner.length) inner.forEach((n) => out.add(n));
      else if (this.names.has(whole)) out.add(whole);
    }
    return out;
  }
}

/** Segments of a key that group values rather than name a method. */
const GROUPING_WORDS = new Set('metric metrics result results score scores stats summary aggregate config args arguments params parameters raw data response responses history curve curves log logs output outputs eval evaluation performance scenario scenarios split splits fold folds seed seeds run runs epoch epochs step steps test train val validation regression classification per target targets'.split(' '));
const isGrouping = (segment: string) => words(segment).some((w) => GROUPING_WORDS.has(w));

/** The parts of a value's place that can name a method: its row label and the record keys above its leaf. */
function nameParts(v: SourceValue): string[] {
  const segments = v.key.split(/[.[\]]+/).filter(Boolean);
  return [v.row, ...segments.slice(0, -1)].filter((c): c is string => {
    if (!c || /^\d+$/.test(c)) return false;
    const n = normalise(c);
    return n.length >= 3 && !GENERIC.has(n) && !metricOf(n) && !/^\d/.test(n) && !isGrouping(c);
  });
}

/** A key's leaf: its last named segment (the CSV column, the JSON field, the printed label). */
export function leafText(v: SourceValue): string {
  return v.key.replace(/\s*\((?:first|last|min|max|mean)\)$/, '').split(/[.[\]]+/).filter((x) => x && x !== '*' && !/^\d+$/.test(x)).pop() ?? '';
}

/** Words of a key's leaf, without generic words. */
function leafWords(v: SourceValue): string[] {
  return words(leafText(v)).filter((w) => !GENERIC.has(w) && w.length >= 3);
}

/** What a claim names: its metric and its method, each the one nearest to the number. */
export interface Named {
  metric?: string;
  method?: string;
  /** The words that name the measure: a table's column header, or the metric word nearest the number. */
  measure?: string[];
  /** Words before a sentence's metric that narrow it ("worst-group"). */
  qualifiers?: string[];
  /** The data split the claim names (train, validation, test). */
  split?: string;
}

const SPLITS: Array<[string, RegExp]> = [
  ['train', /^(?:train|training|trn)$/],
  ['validation', /^(?:val|valid|validation|dev)$/],
  ['test', /^(?:test|testing|tst|heldout|held)$/],
];

/** The split a list of words names, if exactly one. */
export function splitOf(ws: string[]): string | undefined {
  const found = new Set<string>();
  for (const w of ws) for (const [name, re] of SPLITS) if (re.test(w)) found.add(name);
  return found.size === 1 ? [...found][0] : undefined;
}

const QUALIFIER_STOP = new Set('its their his her our this that with had has have was were reaching reached achieving achieved achieves showing showed shows obtaining obtained scoring scored highest lowest best worst-case average mean overall only also both while whereas than over under from into across'.split(' '));

/** The nearest item to `at`, preferring one in the same clause. */
function nearest<T extends { at: number }>(items: T[], at: number): T | undefined {
  let best: T | undefined;
  for (const it of items) if (!best || Math.abs(it.at - at) < Math.abs(best.at - at)) best = it;
  return best;
}

export function namedBy(claim: Claim, methods: MethodNames): Named {
  if (claim.cell) {
    // A table may list methods as columns and metrics as rows ("Metric | RobustNet | ERM").
    const transposed = !methods.mentionedIn(claim.cell.row).length && methods.mentionedIn(claim.cell.column).length > 0;
    const [measureText, methodText] = transposed ? [claim.cell.row, claim.cell.column] : [claim.cell.column, claim.cell.row];
    const metric = metricsIn(measureText)[0]?.family ?? metricsIn(methodText)[0]?.family;
    const method = methods.mentionedIn(methodText)[0]?.name ?? methods.mentionedIn(measureText)[0]?.name;
    const measure = words(measureText).filter((w) => !GENERIC.has(w) && w.length >= 3);
    const split = splitOf(words(measureText));
    return { ...(metric ? { metric } : {}), ...(method ? { method } : {}), ...(measure.length ? { measure } : {}), ...(split ? { split } : {}) };
  }
  // The clause around the number: another number's metric in the same sentence is not this one's.
  const s = claim.sentence;
  // A metric named before other numbers and other words is another number's ("accuracy (0.9) and overall (0.6)").
  const governsMetric = (m: { at: number; family: string }) => {
    const after = m.at > claim.at;
    // "0.91 (std 0.07)": the spread named after a number belongs to the next one.
    if (after && m.family === 'std') return false;
    const between = after ? s.slice(claim.at + claim.text.length, m.at) : s.slice(m.at, claim.at);
    // After the number only as what it measures: "0.91 accuracy", "80.3% worst-group accuracy", "0.85 (macro F1)";
    // not "0.91 and test F1", and not "0.91 (std 0.07)", whose std is the next number's.
    if (after) return !/^[\s(]*(?:std|sd|stdev|±)/i.test(between) && /^[\s(),]*(?:[A-Za-z0-9-]+\s+){0,2}$/.test(between) && !/\b(?:and|or|vs|versus|than|for|while|with)\b/i.test(between);
    const rest = between.replace(/^[A-Za-z0-9_-]+/, '');
    return !/\d/.test(rest) || rest.replace(/[-−]?\d[\d.,]*%?|\bvs\.?|\band\b|\bor\b|[^A-Za-z]+/gi, ' ').trim().split(/\s+/).filter(Boolean).length <= 2;
  };
  const near = nearest(metricsIn(s).filter(governsMetric), claim.at);
  // A name governs the number only with nothing between them that starts another comparison.
  // A name after the number governs it only through a preposition ("48.9% for the full cache"); "0.91 and test F1" names the next.
  const governs = (m: { at: number }) => {
    const after = m.at > claim.at;
    const between = after ? s.slice(claim.at + claim.text.length, m.at) : s.slice(m.at, claim.at);
    if (after && !/^\s*[),]?\s*(?:for|of|by|on|with|from|in|under|using|at)\b/i.test(between)) return false;
    return !/\d|\bvs\.?|\bversus\b|compared|\bthan\b|\bwhile\b|\bwhereas\b|\bover\b/i.test(between.replace(/^[A-Za-z0-9_-]+/, ''));
  };
  const method = nearest(methods.mentionedIn(s).filter(governs), claim.at)?.name;
  // Words qualifying the metric ("OOD worst-group accuracy"): a key without them may be a sibling measure.
  const qualifierText = near ? (near.at > claim.at ? s.slice(claim.at + claim.text.length, near.at) : s.slice(0, near.at).split(/[,;:(]/).pop() ?? '') : '';
  // The split may be named anywhere in the clause: "a test accuracy of 0.99", "0.99 on the test set".
  const clause = s.slice(Math.max(0, claim.at - 60), claim.at + claim.text.length + 40).split(/[;]|,\s+(?:while|whereas|and)\b/);
  const split = splitOf(words(clause.find((part) => part.includes(claim.text)) ?? clause.join(' ')));
  const qualifiers = near
    ? words(qualifierText)
        .slice(-3)
        .filter((w) => w.length >= 3 && !GENERIC.has(w) && !QUALIFIER_STOP.has(w) && !methods.mentionedIn(w).length && !metricOf(w))
    : [];
  return { ...(near ? { metric: near.family } : {}), ...(method ? { method } : {}), ...(qualifiers.length ? { qualifiers } : {}), ...(split ? { split } : {}) };
}

export type Fit = 'fits' | 'neutral' | 'conflict';

/** How a source value fits what the claim names. */
export function fitOf(named: Named, v: SourceValue, methods: MethodNames, siblings?: (file: string) => string[]): Fit {
  let agree = false;
  const leaf = leafWords(v);
  if (named.metric) {
    // The leaf and the row say what was measured; a grouping key above ("trust_metrics") does not.
    const families = (text: string) => new Set(metricsIn(text.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ')).map((m) => m.family));
    let keyMetrics = families(`${leafText(v)} ${v.row ?? ''}`);
    if (!keyMetrics.size) keyMetrics = families(`${v.key} ${v.file.replace(/^.*\//, '')}`);
    if (keyMetrics.size) {
      if (!keyMetrics.has(named.metric)) return 'conflict';
      agree = true;
    }
  }
  // A table column names its measure: a key whose leaf shares none of its words measures something else.
  if (named.measure?.length && leaf.length) {
    if (!leaf.some((w) => named.measure!.some((m) => m.startsWith(w) || w.startsWith(m)))) return 'conflict';
    agree = true;
  }
  // The split is part of the measure: a test accuracy is not the train or validation one.
  const keySplit = splitOf(words(`${v.key} ${v.row ?? ''} ${v.file.replace(/^.*\//, '')}`));
  if (named.split && keySplit && keySplit !== named.split) return 'conflict';
  // Named no split, a paper reports the test one: a train or validation value whose test sibling exists is not it.
  if (!named.split && keySplit && keySplit !== 'test' && siblings) {
    const asTest = words(v.key).map((w) => (splitOf([w]) ? 'test' : w)).join(' ');
    if (siblings(v.file).some((k) => k !== v.key && words(k).map((w) => (splitOf([w]) === 'test' ? 'test' : w)).join(' ') === asTest)) return 'conflict';
  }
  // A sibling key carries the sentence's qualifiers ("OOD worst-group accuracy") that this one lacks.
  if (named.qualifiers?.length && siblings) {
    const keyWords = words(`${v.key} ${v.row ?? ''}`);
    const has = (ws: string[], q: string) => ws.some((w) => w === q || w.startsWith(q) || q.startsWith(w));
    const missing = named.qualifiers.filter((q) => !has(keyWords, q));
    if (missing.length && siblings(v.file).some((k) => k !== v.key && named.qualifiers!.every((q) => has(words(k), q)))) return 'conflict';
  }
  if (named.method) {
    const own = methods.of(v);
    if (own.size) {
      if (!own.has(named.method)) return 'conflict';
      agree = true;
    }
  }
  return agree ? 'fits' : 'neutral';
}
