/**
 * What a stated number is for, from the words around it and the section it sits in: a result the
 * paper claims to have measured, a setting of its experiment, a figure quoted from other work, a
 * cross-reference or name, future work, or context. Heuristics a reader can follow: each answer
 * comes with the reason (`why`). Pure.
 */
import type { ClaimRole } from './types.js';
import type { SectionKind } from './document.js';

export interface RoleInput {
  /** Text of the line before and after the number (same line). */
  before: string;
  after: string;
  /** The sentence (or table row) around it. */
  sentence: string;
  sectionKind: SectionKind;
  inHeading: boolean;
  cell?: { column: string; row: string; caption: string; header: string[] };
  integer: boolean;
  value: number;
  percent: boolean;
}

export interface Role {
  role: ClaimRole;
  why: string;
}

/** Words right before a number that make it a reference to a part of a document or a page. */
const CROSSREF_BEFORE =
  /(?:\b(?:sections?|sec\.|§|tables?|tab\.|figures?|figs?\.|eqs?\.?|equations?|appendix|appendices|algorithms?|alg\.|steps?|lines?|chapters?|pages?|pp?\.|vol\.|volume|no\.|issue|items?|phases?|stages?|levels?|rounds?|versions?|tiers?|scenarios?|cases?|examples?|experiments?|settings?|hypothes[ie]s|rq|q|research questions?|part|theorem|lemma|definition|corollary|proposition|remark)\s*\(?\s*(?:\d+(?:\.\d+)*[a-z]?\s*(?:-|–|—|to|and|,|&)\s*)?)$/i;
/** A tool, model family or product right before a number: its version or size, not a result. */
const NAME_BEFORE = /(?:\b(?:python|pytorch|torch|tensorflow|jax|cuda|numpy|pandas|scikit-learn|sklearn|transformers|ubuntu|gpt|claude|llama|gemini|qwen|mistral|phi|bert|t5|resnet|vit|gpt-neo|opt|bloom|falcon|vicuna|alpaca|iso|rfc|cve|ieee|icml|iclr|neurips|acl|emnlp)\s?-?\s?)$|[A-Za-z][\w.]*-$/i;
const MONTH_BEFORE = /\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s*$/i;

/** Sentences that attribute a figure to other work. */
const CITATION = /\bet al\.|\[[^\]]*\b(?:19|20)\d{2}[a-z]?\]|\([A-Z][^()]*,\s*(?:19|20)\d{2}[a-z]?\)|\[\d+(?:\s*[,–-]\s*\d+)*\]|\barxiv\b|\bdoi\b|\breport(?:s|ed)? (?:that|by)|\baccording to\b|\bprior work\b|\bprevious (?:work|studies)\b/i;
const FIRST_PERSON = /\b(?:our|we|ours|us|this (?:work|paper|study)|the proposed|proposed (?:method|approach|framework|model))\b/i;
const FUTURE = /\bfuture (?:work|research|direction|stud)|\bwe (?:plan|intend|hope|aim) to\b|\bwill (?:explore|investigate|extend|scale|study|examine)|\bcould (?:be )?(?:scale|extend)|\bscal(?:e|ing)(?: up)? to\b|\blarger[- ]scale\b|\bhypothetical/i;

const PAST_OUTCOME = /\b(?:gave|gives|achieved|achieves|reached|reaches|scored|scores|obtained|obtains|attained|attains|showed|shows|yielded|yields|measured|resulted|increased|decreased|dropped|improved|improves|reduced|reduces|was|were|is|are)\b/i;
const MODAL = /\b(?:could|would|might|may|should|will|can)\b/i;

const OUTCOME_VERB = /\b(?:achiev|obtain|reach|attain|scor|yield|outperform|improv|reduc|gets?\b|got\b)\w*/i;
const METRIC_WORD = /accura|\bf1\b|precision|recall|\bauc|auroc|loss|error|rmse|\bmae\b|\bmse\b|score|rate\b|bleu|rouge|perplex|reward|success|ece\b|%/i;

/** Result language: a metric, or a verb of outcome. */
export const RESULT_WORDS =
  /reach|attain|obtain|accura|\bf1\b|f-score|precision|recall|\bauc|auroc|auprc|loss|error|rmse|\bmae\b|\bmse\b|score|rate\b|rates\b|improv|reduc|increas|decreas|gain|outperform|achiev|perform|speed|faster|slower|latency|\bece\b|calibrat|correlat|bleu|rouge|perplex|reward|success|drop|higher|lower|better|worse|fewer|more than|%/i;

/** Words just before a number that make it a configuration value. */
const SETTING_BEFORE =
  /(?:\b(?:learning[ _]rate|lr|batch[ _]?size|batch|epochs?|seeds?|random seed|dimensions?|dim|hidden(?: size| units| dim\w*)?|layers?|heads?|dropout|weight[ _]decay|temperature|threshold|alpha|beta|gamma|lambda|tau|eta|epsilon|top[- _]?[kp]|k|n|m|d|r|steps?|iterations?|warm-?up|window(?: size)?|rank|max(?:imum)?[ _]?(?:length|tokens|steps|iterations|epochs)|context length|sequence length|seq_len|trials|runs|folds|patience|momentum|budget|capacity|temperature|size|num[ _]\w+|n[ _]\w+|d[ _]\w+|\w+_size|\w+_rate|\w+_dim)|[λαβγτηεδσμ])\s*(?:\([^)]*\)\s*)?(?:of|=|:|to|was|is|were|are|set to|fixed (?:at|to)|equal to|≈|~)?\s*(?:approximately|about|around)?\s*$/i;
/** Nouns right after a number that make it a size or count of the set-up. */
const SETTING_AFTER =
  /^\s*(?:-\s*)?(?:epochs?|samples|examples|instances|iterations|steps|runs|seeds|random seeds|layers|heads|dimensions|dimensional|episodes|trials|tokens|queries|questions|problems|prompts|documents|images|pairs|items|folds|rounds|simulations|data ?points|records|rows|features|classes|categories|neurons|units|hidden|layer|fold|bit|participants|annotators|users|agents|scenarios|tasks|conversations|dialogues|turns|time ?steps|gpus?|cores|hours of|sources|models|networks|checkpoints|datasets|environments|languages|domains|benchmarks|subjects|(?:distinct|unique|different|held-out|test|validation|training|evaluation) \w+)\b(?!\s*(?:per|\/|more|less|fewer|faster|slower|higher|lower|better|worse|improvement|increase|reduction|speed))/i;
/** A parameter named just before a number or a list of them: "λ ranging from 0.01 to 1.0", "threshold (0.5 in our experiments)". */
const PARAMETER_BEFORE =
  /(?:[λαβγτηεδσμ]|\\(?:lambda|alpha|beta|gamma|tau|eta|epsilon|delta|sigma|mu)|\b(?:lambda|threshold|temperature|learning rate)\b)[^.;]{0,30}?(?:from|to|between|of|=|:|\(|values?|at|set)\s*(?:[\d.]+\s*(?:,|and|to|-|–)\s*)*$/i;
/** A percentage that sets up the experiment: a split, a sparsity, a dropout, a share of the data. */
const PERCENT_SETTING = /^\s*(?:sparsity|split|dropout|masking|mask|noise|of (?:the )?(?:tokens|data|training|samples|examples)|held[- ]out|for (?:training|validation|testing)|(?:training|validation|test)\b)|\/\s*\d+%|^\s*\/|split|distribution/i;
/** A column of parameter values in a results table (an ablation over λ). */
const PARAMETER_COLUMN = /^(?:[λαβγτηεδσμk]|lambda|alpha|beta|gamma|tau|threshold|temperature|learning rate|lr|batch size|seed|epochs?|steps|window|rank|sparsity|ratio|weight|noise level)$/i;

/** Verbs of outcome before a count: "solved 45 tasks" is a result, "on 100 tasks" a setting. */
const OUTCOME_BEFORE = /\b(?:achiev|solv|correct|pass|succe|detect|identif|found|reach|obtain|score|flag|caught|fail|resolv|complet|generat|produc|improv|reduc)\w*\b[^.;]{0,30}$/i;

/** A settings table: "Parameter | Value", or a row that names a hyperparameter. */
const SETTINGS_HEADER = /param|hyper|setting|config|argument|value$/i;
const SETTING_ROW = /learning rate|batch|epoch|seed|dropout|weight decay|temperature|threshold|hidden|layers|heads|optimizer|warm-?up|max(?:imum)? (?:length|tokens)|window|rank|lambda|alpha|beta|gamma|λ|α|β|γ|τ|\b(?:k|n|d)\b|num_|_size|_rate|_dim|size of|number of/i;

/** The role of one stated number. */
export function roleOf(x: RoleInput): Role {
  if (x.inHeading) return { role: 'crossref', why: 'in a heading' };
  if (CROSSREF_BEFORE.test(x.before)) return { role: 'crossref', why: 'a reference to a part of a document' };
  if (NAME_BEFORE.test(x.before) && !x.percent) return { role: 'crossref', why: 'part of a name or version' };
  if (MONTH_BEFORE.test(x.before)) return { role: 'crossref', why: 'a date' };
  if (/^\s*\]/.test(x.after) && /\[\s*(?:\d+\s*[,–-]\s*)*$/.test(x.before)) return { role: 'crossref', why: 'a numbered citation' };
  if (/^(?:\.\d+)*\s*$/.test(x.after) && /^\s*(?:[-*]\s*)?$/.test(x.before) && x.integer) return { role: 'crossref', why: 'list numbering' };
  if (/^\s*(?:-|–|—)\s*\d/.test(x.after) && /\b(?:pp?\.|pages?|lines?)\s*$/i.test(x.before)) return { role: 'crossref', why: 'a page range' };
  if (x.cell) return tableRole(x);
  return sentenceRole(x);
}

function tableRole(x: RoleInput): Role {
  const cell = x.cell!;
  if (x.sectionKind === 'related' || (CITATION.test(cell.row) && !FIRST_PERSON.test(cell.row))) return { role: 'quoted', why: 'a table of other work' };
  if (x.sectionKind === 'future') return { role: 'future', why: 'a table under future work' };
  const twoColumns = cell.header.length <= 3 && SETTINGS_HEADER.test(cell.header.join(' '));
  if (twoColumns || /hyper-?param|config|setting/i.test(cell.caption)) return { role: 'setting', why: 'a settings table' };
  if (SETTING_ROW.test(cell.row) && !RESULT_WORDS.test(cell.row)) return { role: 'setting', why: `a setting row ("${cell.row}")` };
  if (PARAMETER_COLUMN.test(cell.column.replace(/[*_`()]/g, '').trim()) && !RESULT_WORDS.test(cell.column)) return { role: 'setting', why: `a parameter column ("${cell.column}")` };
  if (x.sectionKind === 'setup' && !RESULT_WORDS.test(`${cell.column} ${cell.caption}`)) return { role: 'setting', why: 'a table in the set-up' };
  return { role: 'result', why: 'a results table' };
}

function sentenceRole(x: RoleInput): Role {
  const s = x.sentence;
  // A caption ("*Figure 2: Accuracy of RobustNet is 93.7%*") describes a result wherever it stands.
  if (/^\s*[*_]*(?:figure|fig\.|table)\s*\d+[a-z]?\s*[:.]/i.test(s) && RESULT_WORDS.test(s) && !CITATION.test(s)) return { role: 'result', why: 'a caption stating an outcome' };
  if (FUTURE.test(s)) return { role: 'future', why: 'future work' };
  if (x.sectionKind === 'future') {
    // A limitation may still report a number measured: "a preliminary run gave 0.87".
    const measuredHere = RESULT_WORDS.test(s) && PAST_OUTCOME.test(s) && !MODAL.test(s);
    return measuredHere ? { role: 'result', why: 'an outcome reported under limitations' } : { role: 'future', why: 'future work or limitations' };
  }
  if (CITATION.test(s) && !FIRST_PERSON.test(s)) return { role: 'quoted', why: 'attributed to other work' };
  const outcome = OUTCOME_BEFORE.test(x.before);
  if (!x.percent && !outcome && (SETTING_BEFORE.test(x.before) || SETTING_AFTER.test(x.after) || PARAMETER_BEFORE.test(x.before))) return { role: 'setting', why: 'a setting of the experiment' };
  if (x.percent && !outcome && (PERCENT_SETTING.test(x.after) || /(?:split|distribution|sparsity)\b[^.;]{0,25}$/i.test(x.before))) return { role: 'setting', why: 'a share set up by the experiment' };
  switch (x.sectionKind) {
    case 'abstract':
    case 'results':
      return { role: 'result', why: `stated in the ${x.sectionKind === 'abstract' ? 'abstract' : 'results'}` };
    case 'setup':
      // "The final model obtains a test accuracy of 95.2%" is an outcome, wherever it is written.
      return OUTCOME_VERB.test(s) && METRIC_WORD.test(s) ? { role: 'result', why: 'an outcome stated in the set-up' } : { role: 'setting', why: 'stated in the set-up' };
    case 'related':
      return { role: 'quoted', why: 'related work' };
    case 'intro':
    case 'method':
      return FIRST_PERSON.test(s) && RESULT_WORDS.test(s) && /\b(?:show|achiev|improv|reduc|outperform|reach|result|find|found|demonstrat|experiment)/i.test(s)
        ? { role: 'result', why: 'an outcome this work claims' }
        : x.sectionKind === 'intro' && CITATION.test(s)
          ? { role: 'quoted', why: 'attributed to other work' }
          : { role: 'context', why: `stated in the ${x.sectionKind === 'intro' ? 'introduction' : 'method'}` };
    default:
      return RESULT_WORDS.test(s) ? { role: 'result', why: 'a sentence about an outcome' } : { role: 'context', why: 'no result language' };
  }
}
