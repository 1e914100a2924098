/**
 * The integrity check: each number a document states gets a verdict. Result claims must be
 * measured (a value a program wrote, under a key that fits what the sentence names), derived from
 * two measured values, or they are flagged; settings are looked up in the configuration and
 * commands the code recorded; the rest is listed. Values only a typed (laundered) file holds do
 * not count as measured. Pure: callers read the files and decide which are typed.
 */
import { extractClaims } from './claims.js';
import { RESULT_WORDS } from './roles.js';
import { fitOf, leafText, MethodNames, namedBy, words, type Fit } from './keyFit.js';
import { sameNumber, show } from './numbers.js';
import { FLAGGED_VERDICTS, type CheckReport, type Claim, type Finding, type SourceSummary, type SourceValue, type Verdict } from './types.js';
import { ValueIndex, type Entry } from './valueIndex.js';

export interface CheckSource {
  file: string;
  content: string;
  /** measured: written by code; typed: the agent typed its values; config: code and commands (settings only). */
  as: 'measured' | 'typed' | 'config';
  note?: string;
  /**
   * Numbers written as literals in the command or scripts that wrote a measured file: a value of
   * the file that is one of them was typed into the code, not computed (one method's row set by hand).
   */
  literals?: number[];
}

export interface CheckInput {
  /** Documents to check, by name (markdown). */
  documents: Record<string, string>;
  sources: CheckSource[];
  notes?: string[];
}

const NEAREST = 3;
/** Values a derivation is looked for among: the measured values other claims of the section matched. */
const MAX_ANCHORS = 400;

interface Indexes {
  /** Per measured file, the literals of the code that wrote it (see CheckSource.literals). */
  literals: Map<string, Set<number>>;
  measured: ValueIndex;
  typed: ValueIndex;
  config: ValueIndex;
  methods: MethodNames;
}

function buildIndexes(sources: CheckSource[], summaries: SourceSummary[]): Indexes {
  const ix: Indexes = { literals: new Map(), measured: new ValueIndex(), typed: new ValueIndex(), config: new ValueIndex(), methods: new MethodNames() };
  for (const s of sources) {
    if (s.literals?.length) ix.literals.set(s.file, new Set(s.literals));
    const index = ix[s.as];
    const before = index.size;
    const read = index.add(s.file, s.content, s.as === 'config' ? 'code' : 'data');
    const failed = index.unreadable.find((u) => u.file === s.file);
    if (failed) summaries.push({ file: s.file, as: s.as, values: 0, note: `not read: ${failed.why}` });
    if (!read) continue;
    summaries.push({ file: s.file, as: s.as, values: index.size - before, ...(s.note ? { note: s.note } : {}) });
    if (s.as !== 'config') for (let id = before; id < index.size; id++) ix.methods.addFrom(index.entry(id));
  }
  return ix;
}

const publicValue = (e: Entry): SourceValue => ({ file: e.file, key: e.key, ...(e.row ? { row: e.row } : {}), value: e.value });

/** The best-fitting candidate of an index for a claim: fits over neutral over conflict; series values only when they fit. */
/** Keys that hold the set-up, not an outcome: a result is never supported by a learning rate. */
const CONFIG_KEY = /(?:^|[._\s[])(?:config|configuration|args|arguments|params|parameters|hyperparameters|hparams|settings|setup|options)(?:$|[._\s\]])|(?:^|[._\s])(?:lr|learning_rate|weight_decay|warmup\w*|seed|random_seed|batch_size|num_epochs|epochs|dropout|momentum|temperature|max_length|max_tokens|hidden_\w+|num_layers|n_layers|patience)$/i;
/** Keys whose values may be percentages as they stand (a percentage claim matched without scaling). */
const PERCENT_KEY = /%|pct|percent|rate|ratio|accura|\bacc\b|_acc\b|f1|precision|recall|auc|score|share|fraction|coverage|success|improv|gain|reduction|drop|change/i;
/** Words that let a sentence state a negative value without its sign ("a drop of 0.12"). */
const DIRECTION = /drop|decreas|reduc|lower|fell|fall|declin|less|negative|worse|down|below|loss of|deficit|degrad|minus|−|-\s*$/i;

function bestMatch(ix: Indexes, index: ValueIndex, claim: Claim, o: { result?: boolean } = {}): { entry: Entry; fit: Fit } | undefined {
  const named = namedBy(claim, ix.methods);
  let best: { entry: Entry; fit: Fit } | undefined;
  const rank = { fits: 2, neutral: 1, conflict: 0 } as const;
  const signFree = claim.value < 0 || DIRECTION.test(claim.sentence);
  for (const id of index.candidates(claim)) {
    const entry = index.entry(id);
    if (o.result) {
      if (CONFIG_KEY.test(entry.key)) continue;
      // "25.0%" is not 25 lines of code: unscaled, only a key that may hold percentages.
      if (claim.percent && Math.abs(Math.abs(entry.value) - Math.abs(claim.value)) <= claim.tolerance * 1.01 + 1e-12 && !PERCENT_KEY.test(`${entry.key} ${entry.file}`)) continue;
      // A sign the sentence does not explain is a different number.
      if (!signFree && claim.value > 0 && entry.value < 0) continue;
    }
    const fit = fitOf(named, entry, ix.methods, (file) => index.keysOf(file));
    if (entry.series && fit !== 'fits') continue;
    if (!best || rank[fit] > rank[best.fit]) best = { entry, fit };
    if (fit === 'fits') break;
  }
  return best;
}

/** A measured value another claim matched: derivations combine two of one measure (same key leaf). */
interface Anchor {
  value: number;
  measure: string;
  /** The methods its key or row names (a derivation must be between the methods the sentence names). */
  methods: Set<string>;
}

const measureOf = (e: Entry) => leafText(e).toLowerCase();

const SPREAD = /(?:^|_|\b)(?:std|stdev|sd|sem|var|variance|ci|stderr|err)(?:$|_|\b)/i;

/**
 * A difference, ratio or relative change of two measured values of one measure that gives the
 * claim, between the methods its sentence names. Only measured values take part, never the
 * paper's own numbers: a derivation must rest on what was measured.
 */
function derivation(ix: Indexes, claim: Claim, anchors: Anchor[]): string | undefined {
  // "3.2 points" is a difference of percentages.
  const points = !claim.percent && /^\s*(?:percentage\s+)?(?:points?|pp)\b/i.test(claim.sentence.slice(claim.at + claim.text.length));
  const stated = { ...claim, percent: claim.percent || points, tolerance: claim.tolerance * 1.5 };
  const named = new Set(ix.methods.mentionedIn(claim.cell ? `${claim.cell.row} ${claim.cell.column}` : claim.sentence).map((m) => m.name));
  const between = (a: Anchor, b: Anchor) => {
    if (!named.size) return true;
    const hits = [a, b].filter((x) => [...x.methods].some((m) => named.has(m))).length;
    return named.size >= 2 ? hits === 2 : hits >= 1;
  };
  const shown = (x: number) => (stated.percent && Math.abs(Math.abs(x) * 100 - Math.abs(claim.value)) < Math.abs(Math.abs(x) - Math.abs(claim.value)) ? `${show(x * 100)}%` : show(x));
  for (let i = 0; i < anchors.length; i++) {
    for (let j = 0; j < anchors.length; j++) {
      const [x, y] = [anchors[i], anchors[j]];
      const [a, b] = [x.value, y.value];
      // Spreads are not compared: a difference of two standard deviations is no claim.
      if (i === j || a === b || a === -b || y.measure !== x.measure || SPREAD.test(x.measure) || !between(x, y)) continue;
      const tag = ` (${x.measure})`;
      if (i < j && sameNumber(stated, a - b)) return `${show(Math.max(a, b))} - ${show(Math.min(a, b))} = ${shown(Math.abs(a - b))}${tag}`;
      if (b !== 0 && sameNumber(stated, (a - b) / b)) return `(${show(a)} - ${show(b)}) / ${show(b)} = ${shown((a - b) / b)}${tag}`;
      // A ratio above 1 is "2.8 times"; as a percentage only a share below 1 is meant.
      if (b !== 0 && !stated.percent && Math.abs(a) > Math.abs(b) && sameNumber(stated, a / b)) return `${show(a)} / ${show(b)} = ${shown(a / b)}${tag}`;
      if (b !== 0 && stated.percent && Math.abs(a) < Math.abs(b) && sameNumber(stated, a / b)) return `${show(a)} / ${show(b)} = ${shown(a / b)}${tag}`;
    }
  }
  return undefined;
}

/** A measured match whose value its file's own writer holds as a literal is typed, not measured. */
function literalIn(ix: Indexes, e: Entry): boolean {
  const literals = ix.literals.get(e.file);
  return !!literals && literals.has(Math.abs(e.value));
}

const measuredVerdict = (ix: Indexes, e: Entry, fit: Fit): Omit<Finding, keyof Claim> =>
  literalIn(ix, e)
    ? { verdict: 'typed', match: publicValue(e), note: `${show(e.value)} is a literal in the code that wrote ${e.file}, not a value it computed` }
    : { verdict: fit === 'fits' ? 'supported' : 'weak', match: publicValue(e) };

/** The verdict on a result claim. */
function judgeResult(ix: Indexes, claim: Claim, measured: ReturnType<typeof bestMatch>, anchors: Anchor[]): Omit<Finding, keyof Claim> {
  if (measured && measured.fit !== 'conflict') return measuredVerdict(ix, measured.entry, measured.fit);
  const derived = derivation(ix, claim, anchors);
  if (derived) return { verdict: 'derived', derivation: derived };
  if (measured) return { verdict: 'mismatch', match: publicValue(measured.entry), nearest: nearestOf(ix, claim) };
  const typed = bestMatch(ix, ix.typed, claim, { result: true });
  if (typed) return { verdict: 'typed', match: publicValue(typed.entry) };
  return { verdict: 'unsupported', nearest: nearestOf(ix, claim) };
}

function nearestOf(ix: Indexes, claim: Claim): SourceValue[] {
  return ix.measured.nearest(claim, NEAREST).map((id) => publicValue(ix.measured.entry(id)));
}

/** The verdict on a setting: in the recorded configuration or outputs, different there, or not recorded. */
function judgeSetting(ix: Indexes, claim: Claim): Omit<Finding, keyof Claim> {
  for (const index of [ix.config, ix.measured, ix.typed]) {
    const found = bestMatch(ix, index, claim);
    if (found && found.fit !== 'conflict') return { verdict: 'setting-recorded', match: publicValue(found.entry) };
  }
  // Differs: a recorded key is named right before the number, with another value.
  const before = words(claim.sentence.slice(Math.max(0, claim.at - 40), claim.at)).slice(-3).join('');
  if (before.length >= 3) {
    for (let id = 0; id < ix.config.size; id++) {
      const e = ix.config.entry(id);
      const key = words(e.key).join('');
      if (key.length >= 3 && before.endsWith(key)) return { verdict: 'setting-differs', match: publicValue(e) };
    }
  }
  return { verdict: 'setting-unrecorded' };
}

/** The sources indexed once, then any number of documents checked against them. */
export class IntegrityChecker {
  private readonly ix: Indexes;
  private readonly summaries: SourceSummary[] = [];

  constructor(
    private readonly sources: CheckSource[],
    private readonly notes: string[] = [],
  ) {
    this.ix = buildIndexes(sources, this.summaries);
  }

  check(documents: Record<string, string>): CheckReport {
    const findings: Finding[] = [];
    // Not push(...): a long document's findings are more arguments than the stack holds.
    for (const [document, text] of Object.entries(documents)) for (const f of this.checkOne(document, text)) findings.push(f);
    const counts: Partial<Record<Verdict, number>> = {};
    for (const f of findings) counts[f.verdict] = (counts[f.verdict] ?? 0) + 1;
    const results = findings.filter((f) => f.role === 'result');
    const notes = [...this.notes];
    if (!this.sources.some((s) => s.as === 'measured')) notes.push('No file the code wrote was found: no result claim can be supported.');
    return {
      version: 2,
      status: 'ok',
      checked: findings.length,
      results: results.length,
      counts,
      flagged: results.filter((f) => FLAGGED_VERDICTS.includes(f.verdict)).length,
      findings,
      sources: [...this.summaries],
      notes,
    };
  }

  /**
   * A number outside the results ("Unlike Smith et al., RobustNet reaches 87.3%", a limitation, the
   * introduction) is still a result claim when its sentence credits it to a method this experiment
   * measured, in result language.
   */
  private asMeasuredMethod(c: Claim): Claim {
    if (c.role !== 'quoted' && c.role !== 'context' && c.role !== 'future') return c;
    if (c.role === 'future' && /\b(?:will|would|could|might|may|plan|future)\b/i.test(c.sentence)) return c;
    // Related work describes other methods, some of them also run here as baselines: only a contrast credits this work.
    if (c.why === 'related work' && !/\b(?:unlike|in contrast|whereas|our|we|ours|this work)\b/i.test(c.sentence)) return c;
    const method = namedBy(c, this.ix.methods).method;
    if (!method || !RESULT_WORDS.test(c.sentence)) return c;
    return { ...c, role: 'result', why: `credited to ${method}, a method this experiment measured` };
  }

  private checkOne(document: string, text: string): Finding[] {
    const ix = this.ix;
    const claims = extractClaims(text, document).map((c) => this.asMeasuredMethod(c));
    // First pass: direct matches, whose values become the anchors of derivations in their section.
    const anchorsBySection = new Map<string, Anchor[]>();
    const direct = claims.map((c) => {
      if (c.role !== 'result') return undefined;
      const m = bestMatch(ix, ix.measured, c, { result: true });
      if (m && m.fit !== 'conflict') {
        const list = anchorsBySection.get(c.section) ?? [];
        if (list.length < MAX_ANCHORS && !list.some((a) => a.value === m.entry.value)) list.push({ value: m.entry.value, measure: measureOf(m.entry), methods: ix.methods.of(m.entry) });
        anchorsBySection.set(c.section, list);
      }
      return m;
    });
    return claims.map((c, i) => {
      let judged: Omit<Finding, keyof Claim>;
      if (c.role === 'result') {
        const m = direct[i];
        // The first pass's match is the measured one: judged here without looking it up again.
        judged = judgeResult(ix, c, direct[i], anchorsBySection.get(c.section) ?? []);
      } else if (c.role === 'setting') judged = judgeSetting(ix, c);
      else judged = { verdict: 'listed' };
      return { ...c, ...judged };
    });
  }
}

/** Checks every document's stated numbers against the sources. */
export function checkDocuments(input: CheckInput): CheckReport {
  return new IntegrityChecker(input.sources, input.notes).check(input.documents);
}

/** The report of a check that could not run: it says so and why; nothing in it reads as "verified". */
export function failedCheck(err: unknown, sources: SourceSummary[] = []): CheckReport {
  const error = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { version: 2, status: 'error', error: error.slice(0, 500), checked: 0, results: 0, counts: {}, flagged: 0, findings: [], sources, notes: [] };
}
