/**
 * Marks (a flagged number, a flagged citation) carried through markdown rendering: each marked
 * span of the source gets private-use sentinel characters around it before rendering, and the
 * rendered HTML's sentinels become `<mark>` elements afterwards. Markdown, KaTeX and highlight.js
 * treat the sentinels as ordinary text; renderers for elements a mark cannot sit inside (math,
 * code, an address) strip them with {@link takeSentinels} and mark the whole element.
 */
import { escapeHtml } from './html.js';

/** A span of the source to mark, with the mark's attributes (already chosen, escaped when written). */
export interface SourceMark {
  start: number;
  end: number;
  className: string;
  title: string;
  /** Extra `data-*` attributes, e.g. `{ finding: 'paper.md:12:30' }`. */
  data: Record<string, string>;
}

const OPEN = '\uE000';
const CLOSE = '\uE001';
const FIRST_ID = 0xe100;
const LAST_ID = 0xf8ff;
/** The most marks one document can carry: one private-use character names each. */
export const MAX_MARKS = LAST_ID - FIRST_ID + 1;
/** Every character the sentinels use; the source's own are replaced first, so any found later is ours. */
const RESERVED = /[\uE000-\uE001\uE100-\uF8FF]/g;
const SENTINEL = /\uE000([\uE100-\uF8FF])|\uE001([\uE100-\uF8FF])/g;

/**
 * The source with sentinels around each mark's span. The source's own characters in the reserved
 * private-use range become U+FFFD (one code unit for one, so recorded columns still hold). Spans
 * must not overlap and at most {@link MAX_MARKS} are taken; `marks[i]` is named by id `i`.
 */
export function insertSentinels(source: string, marks: SourceMark[]): string {
  const clean = source.replace(RESERVED, '\uFFFD');
  const cuts: Array<{ at: number; text: string; order: number }> = [];
  marks.slice(0, MAX_MARKS).forEach((m, i) => {
    const id = String.fromCharCode(FIRST_ID + i);
    // At one offset, a mark that ends closes before one that starts opens.
    cuts.push({ at: m.start, text: OPEN + id, order: 1 }, { at: m.end, text: CLOSE + id, order: 0 });
  });
  cuts.sort((a, b) => a.at - b.at || a.order - b.order);
  let out = '';
  let at = 0;
  for (const c of cuts) {
    out += clean.slice(at, c.at) + c.text;
    at = c.at;
  }
  return out + clean.slice(at);
}

/** Text with its sentinels removed, and the ids of the marks they named (for marking the whole element). */
export function takeSentinels(text: string): { text: string; ids: number[] } {
  const ids = new Set<number>();
  const stripped = text.replace(SENTINEL, (_, open?: string, close?: string) => {
    ids.add((open ?? close)!.charCodeAt(0) - FIRST_ID);
    return '';
  });
  return { text: stripped, ids: [...ids] };
}

/** Whether `html` still holds mark `id`'s sentinels. */
export function hasSentinel(html: string, id: number): boolean {
  return html.includes(OPEN + String.fromCharCode(FIRST_ID + id));
}

export function markOpenTag(mark: SourceMark): string {
  const data = Object.entries(mark.data)
    .map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`)
    .join('');
  return `<mark class="${escapeHtml(mark.className)}" title="${escapeHtml(mark.title)}"${data}>`;
}

/** `html` inside the marks `ids` name (a whole formula, code block or link). */
export function wrapInMarks(html: string, ids: number[], marks: SourceMark[], block = false): string {
  let out = html;
  for (const id of ids) {
    const mark = marks[id];
    if (!mark) continue;
    const open = markOpenTag(block ? { ...mark, className: `${mark.className} block` } : mark);
    out = `${open}${out}</mark>`;
  }
  return out;
}

/**
 * The rendered HTML with each sentinel pair turned into a `<mark>`, and the ids placed. A pair is
 * placed only when both ends are in text (not inside a tag) and no tag lies between them (a number
 * split by formatting); otherwise its sentinels are dropped and the mark counts as not placed.
 */
export function sentinelsToMarks(html: string, marks: SourceMark[], alreadyPlaced: Iterable<number> = []): { html: string; placed: Set<number> } {
  const placed = new Set<number>(alreadyPlaced);
  const opens = new Map<number, number>();
  const pairs: Array<{ id: number; open: number; close: number }> = [];
  for (const m of html.matchAll(SENTINEL)) {
    const id = (m[1] ?? m[2]).charCodeAt(0) - FIRST_ID;
    if (m[1] !== undefined) opens.set(id, m.index);
    else if (opens.has(id)) {
      pairs.push({ id, open: opens.get(id)!, close: m.index });
      opens.delete(id);
    }
  }
  const accepted = new Map<number, string>();
  for (const p of pairs) {
    const between = html.slice(p.open + 2, p.close);
    if (/[<>]/.test(between) || insideTag(html, p.open) || insideTag(html, p.close)) continue;
    accepted.set(p.open, markOpenTag(marks[p.id]));
    accepted.set(p.close, '</mark>');
    placed.add(p.id);
  }
  const out = html.replace(SENTINEL, (_m, _o, _c, offset: number) => accepted.get(offset) ?? '');
  return { html: out, placed };
}

/** Whether `offset` lies between a tag's `<` and `>` (in an attribute), in HTML whose attribute values are escaped. */
function insideTag(html: string, offset: number): boolean {
  return html.lastIndexOf('<', offset) > html.lastIndexOf('>', offset);
}
