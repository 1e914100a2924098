/**
 * The citation check's pure half: find the works a markdown document cites, and decide whether a
 * cited title matches the record its id resolves to. The activity `resolveCitations`
 * (activities/literature/) does the look-ups.
 *
 * What counts as a cited work:
 * - every id written in the document: `arXiv:2401.01234`, `DOI:10.1145/…`, `S2:<40 hex>`,
 *   `OpenAlex:W…`, or a link to arxiv.org/abs, doi.org, semanticscholar.org/paper, openalex.org;
 * - every entry of a `References` (or `Bibliography`, `Works cited`) section; an entry with no
 *   id is flagged `no_id`. Entries are the section's list items (`-`, `*`, `1.`, `[1]`) or, in a
 *   section without a list, its paragraphs.
 * The title a work is checked against comes from its reference entry (quoted, italic or bold
 * title, link text, or the entry's own words), else from the text of a link to it in the body
 * (`[Deep residual learning](https://arxiv.org/abs/1512.03385)`, not `[He et al., 2016](…)`),
 * else from `references.json` when given. A work cited only by its id is checked for existence.
 */
import type { Citation } from '../../common/citations.js';
import { findPaperIds, idFromUrl, parsePaperId } from '../literature/ids.js';
import { titleSimilarity } from '../literature/titles.js';

/**
 * Titles match when the Sørensen–Dice coefficient of their normalised word sets is at least 0.8.
 * Why 0.8: the variations real references show between sources — a dropped acronym prefix
 * ("LoRA:"), an article or a word of spelling changed, a plural, hyphenation, LaTeX, accents,
 * case — cost one word in seven to ten and score 0.85–0.95 (normalisation already absorbs
 * most); a title an LLM invents for a real id, even in the same field's vocabulary, shares far
 * fewer words (typically 0.2–0.6). Two changed words in an eight-word title (0.75) is flagged:
 * that is no longer the same title as written.
 */
export const TITLE_MATCH_THRESHOLD = 0.8;

const REFERENCE_HEADING = /^(#{1,6})\s*(?:\d+(?:\.\d+)*\.?\s*)?(references|bibliography|works cited|cited works|literature cited|reference list)\b/i;
const HEADING = /^(#{1,6})\s/;
const LIST_ITEM = /^\s{0,3}(?:[-*+]|\d+[.)]|\[\d+\])\s+/;
const MD_LINK = /\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g;

/** Link text that names a work rather than being an id, a URL, a number or an author-year cite. */
function looksLikeTitle(text: string): boolean {
  const t = text.replace(/[*_`]/g, '').trim();
  if (findPaperIds(t).length || parsePaperId(t) || /^https?:\/\//i.test(t)) return false;
  if (/\bet al\b|^\d+$|\b(?:19|20)\d{2}[a-z]?\)?$/i.test(t)) return false;
  return t.split(/\s+/).length >= 3;
}

/** The title an entry sets apart: link text to the work, "quoted", **bold** or *italic*. */
function delimitedTitle(entry: string): string | undefined {
  for (const m of entry.matchAll(MD_LINK)) if (looksLikeTitle(m[1])) return clean(m[1]);
  const quoted = /["“]([^"”]{8,})["”]/.exec(entry);
  if (quoted) return clean(quoted[1]);
  const bold = /\*\*([^*]{8,})\*\*/.exec(entry);
  if (bold) return clean(bold[1]);
  const italic = /(?<![*\w])[*_]([^*_]{8,})[*_](?![*\w])/.exec(entry);
  if (italic) return clean(italic[1]);
  return undefined;
}

function clean(text: string): string {
  return text.replace(/[*_`]+/g, '').replace(/\s+/g, ' ').trim().replace(/[.,;:]+$/, '');
}

/** An entry's words without its list marker, ids, URLs and link markup. */
function entryText(entry: string): string {
  return clean(
    entry
      .replace(LIST_ITEM, '')
      .replace(MD_LINK, (_, text: string, url: string) => (idFromUrl(url) && !looksLikeTitle(text) ? ' ' : ` ${text} `))
      .replace(/<?https?:\/\/[^\s)>]+>?/g, ' ')
      .replace(/\b(?:arxiv|doi|s2|openalex)\s*:\s*\S+/gi, ' ')
      .replace(/\(\s*\)|\[\s*\]/g, ' '),
  );
}

interface Mention {
  ids: string[];
  title?: string;
  text?: string;
  /** 2: a reference entry, 1: link text in the body, 0: the id alone. */
  rank: number;
}

function splitEntries(lines: string[]): string[] {
  const hasList = lines.some((l) => LIST_ITEM.test(l));
  const entries: string[] = [];
  let current: string[] = [];
  const flush = () => {
    if (current.length) entries.push(current.join(' '));
    current = [];
  };
  for (const line of lines) {
    if (!line.trim()) {
      flush();
      continue;
    }
    if (LIST_ITEM.test(line)) {
      flush();
      current.push(line);
    } else if (hasList && !current.length) {
      continue; // prose around a list (an introductory sentence, a note) is not an entry
    } else {
      current.push(line.trim());
    }
  }
  flush();
  return entries;
}

/** Removes fenced code blocks: ids in code are not citations. */
function withoutCode(markdown: string): string[] {
  const out: string[] = [];
  let fenced = false;
  for (const line of markdown.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      continue;
    }
    if (!fenced) out.push(line);
  }
  return out;
}

export interface ParseOptions {
  /** Also check records of references.json that the document never cites (default false). */
  includeUncited?: boolean;
}

/**
 * The works `markdown` cites, each once (merged by any of its ids), in order of first mention.
 * `references` (the stage's references.json) lends titles to works the document cites by id alone.
 */
export function parseCitations(markdown: string, references: Array<{ id?: string; title?: string }> = [], options: ParseOptions = {}): Citation[] {
  const lines = withoutCode(markdown);
  const mentions: Mention[] = [];
  let refLevel: number | undefined;
  let refLines: string[] = [];
  const flushSection = () => {
    for (const entry of splitEntries(refLines)) {
      const ids = findPaperIds(entry).map((i) => i.canonical);
      const text = entryText(entry);
      if (!ids.length && !/\p{L}/u.test(text)) continue;
      mentions.push({ ids, title: delimitedTitle(entry), text: text || undefined, rank: 2 });
    }
    refLines = [];
  };
  for (const line of lines) {
    const heading = HEADING.exec(line);
    if (refLevel !== undefined) {
      if (heading && heading[1].length <= refLevel) {
        flushSection();
        refLevel = undefined;
      } else {
        refLines.push(line);
        continue;
      }
    }
    const refHeading = REFERENCE_HEADING.exec(line);
    if (refHeading) {
      refLevel = refHeading[1].length;
      continue;
    }
    // Body: links (their text may be the title) and ids written out, in the order they appear.
    const found: Array<Mention & { at: number }> = [];
    for (const m of line.matchAll(MD_LINK)) {
      const id = idFromUrl(m[2]) ?? findPaperIds(m[1])[0];
      const titled = looksLikeTitle(m[1]);
      if (id) found.push({ ids: [id.canonical], title: titled ? clean(m[1]) : undefined, rank: titled ? 1 : 0, at: m.index });
    }
    for (const id of findPaperIds(line)) found.push({ ids: [id.canonical], rank: 0, at: line.indexOf(id.value) });
    mentions.push(...found.sort((a, b) => a.at - b.at).map(({ at: _, ...m }) => m));
  }
  if (refLevel !== undefined) flushSection();

  // Merge mentions of the same work; the best-ranked mention gives the title.
  const works: Array<Mention & { order: number }> = [];
  const byId = new Map<string, Mention & { order: number }>();
  const noId: Citation[] = [];
  mentions.forEach((m, order) => {
    if (!m.ids.length) {
      noId.push({ title: m.title ?? m.text?.slice(0, 300), text: m.text });
      return;
    }
    const existing = m.ids.map((id) => byId.get(id)).find(Boolean);
    if (!existing) {
      const w = { ...m, ids: [...m.ids], order };
      works.push(w);
      for (const id of m.ids) byId.set(id, w);
      return;
    }
    for (const id of m.ids) {
      if (!existing.ids.includes(id)) existing.ids.push(id);
      byId.set(id, existing);
    }
    if (m.rank > existing.rank) {
      existing.rank = m.rank;
      existing.title = m.title;
      existing.text = m.text;
      // A reference entry's first id is the one the work is known by.
      if (m.rank === 2) existing.ids = [...m.ids, ...existing.ids.filter((i) => !m.ids.includes(i))];
    }
  });

  const fromJson = new Map<string, string>();
  for (const r of references) {
    const id = r.id ? parsePaperId(r.id) : undefined;
    if (id && r.title) fromJson.set(id.canonical, r.title);
  }
  const citations: Citation[] = works.map((w) => {
    const c: Citation = { id: w.ids[0] };
    if (w.ids.length > 1) c.otherIds = w.ids.slice(1, 9);
    const title = w.title ?? (w.text ? undefined : w.ids.map((i) => fromJson.get(i)).find(Boolean));
    if (title) c.title = title.slice(0, 1000);
    if (w.text) c.text = w.text.slice(0, 2000);
    return c;
  });
  if (options.includeUncited) {
    for (const [id, title] of fromJson) if (!byId.has(id)) citations.push({ id, title: title.slice(0, 1000) });
  }
  return [...citations, ...noId];
}

/** Reads references.json: an array of records with at least `id` and `title`; anything else is skipped. */
export function parseReferencesJson(text: string): Array<{ id: string; title: string }> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return [];
  }
  const list = Array.isArray(data) ? data : Array.isArray((data as { records?: unknown })?.records) ? (data as { records: unknown[] }).records : [];
  return list.filter(
    (r): r is { id: string; title: string } => typeof (r as { id?: unknown })?.id === 'string' && typeof (r as { title?: unknown })?.title === 'string',
  );
}

/**
 * Pieces of a reference entry that may be its title: runs of consecutive pieces between `. `,
 * `, `, `; `, dashes and brackets (so a title with commas in it is found whole).
 */
export function titleCandidates(text: string, maxPieces = 12): string[] {
  const pieces = text
    .split(/\s*(?:[.;,:]\s+|\s[—–-]\s|[()[\]])\s*/)
    .map((p) => p.trim())
    .filter(Boolean)
    .slice(0, maxPieces);
  const out: string[] = [];
  for (let i = 0; i < pieces.length; i++) for (let j = i; j < pieces.length; j++) out.push(pieces.slice(i, j + 1).join(' '));
  return out;
}

export interface TitleMatch {
  match: boolean;
  /** The best similarity found, 0..1. */
  score: number;
  /** The cited text that scored best. */
  cited?: string;
}

/**
 * Does the citation's title match the record's? The record title is compared with the cited
 * title and with every candidate piece of the reference entry; the subtitle-less main title of
 * the record (before `: `) counts too. No cited title at all → nothing to compare (match).
 */
export function matchTitle(citation: Pick<Citation, 'title' | 'text'>, recordTitle: string, threshold = TITLE_MATCH_THRESHOLD): TitleMatch {
  const cited = [citation.title, ...(citation.text ? titleCandidates(citation.text) : [])].filter((c): c is string => Boolean(c?.trim()));
  if (!cited.length) return { match: true, score: 1 };
  const targets = [recordTitle];
  const main = recordTitle.split(/:\s|\s[—–]\s/)[0];
  if (main && main !== recordTitle && main.trim().split(/\s+/).length >= 3) targets.push(main);
  let best: TitleMatch = { match: false, score: 0 };
  for (const c of cited) {
    for (const t of targets) {
      const score = titleSimilarity(c, t);
      if (score > best.score) best = { match: score >= threshold, score, cited: c };
    }
  }
  return best;
}
