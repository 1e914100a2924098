/**
 * Math in markdown (`$...$`, `$$...$$`, `\(...\)`, `\[...\]`) as a marked extension, rendered by
 * KaTeX as MathML: the browser draws it with no KaTeX stylesheet or fonts, so the console's
 * Content-Security-Policy stays as strict as it is. The few `style` attributes KaTeX writes even
 * then (a coloured box's border) are removed; KaTeX's `trust` stays off, so `\href`, `\url`,
 * `\includegraphics` and `\html...` commands are shown as source, never followed.
 */
import katex from 'katex';
import type { TokenizerAndRendererExtension, Tokens } from 'marked';
import { escapeHtml } from './html.js';

interface MathToken extends Tokens.Generic {
  type: 'mathBlock' | 'mathInline';
  raw: string;
  text: string;
  display: boolean;
}

/** The formula's text, and the html to show for it (marks are applied by the caller). */
export type MathRenderer = (tex: string, display: boolean, block: boolean) => string;

/** Longer formulas are not read as math (the longest in 3,087 agent-written documents is under 1,000 characters). */
const MAX_FORMULA_CHARS = 4000;
const DISPLAY_DELIMITERS: Array<[string, string]> = [
  ['$$', '$$'],
  ['\\[', '\\]'],
];
const INLINE_DELIMITERS: Array<[string, string, boolean]> = [...DISPLAY_DELIMITERS.map(([o, c]): [string, string, boolean] => [o, c, true]), ['\\(', '\\)', false]];
/** `$x$`, not a price: no space just inside the dollars, and no digit right after the closing one ($5 and $10). */
const DOLLAR_MATH = /^\$(?![\s$])((?:\\[\s\S]|[^\\$])+?)(?<!\s)\$(?!\d)/;

export function mathExtensions(render: MathRenderer): TokenizerAndRendererExtension[] {
  return [
    {
      name: 'mathBlock',
      level: 'block',
      tokenizer: (src: string): MathToken | undefined => blockMath(src),
      renderer: (token) => render((token as MathToken).text, true, true),
    },
    {
      name: 'mathInline',
      level: 'inline',
      tokenizer(src: string): MathToken | undefined {
        for (const [open, close, display] of INLINE_DELIMITERS) {
          const d = delimited(src, 0, open, close);
          if (d) return { type: 'mathInline', raw: src.slice(0, d.end), text: d.tex, display };
        }
        const m = DOLLAR_MATH.exec(src.slice(0, MAX_FORMULA_CHARS + 2));
        return m ? { type: 'mathInline', raw: m[0], text: m[1], display: false } : undefined;
      },
      renderer: (token) => render((token as MathToken).text, (token as MathToken).display, false),
    },
  ];
}

/** Display math opening `src` (up to three spaces in), alone on its lines: `$$ … $$` or `\\[ … \\]`. */
function blockMath(src: string): MathToken | undefined {
  const indent = /^ {0,3}/.exec(src)![0].length;
  for (const [open, close] of DISPLAY_DELIMITERS) {
    const d = delimited(src, indent, open, close);
    const after = d && /^[ \t]*(?:\n+|$)/.exec(src.slice(d.end));
    if (d && after && d.tex.trim()) return { type: 'mathBlock', raw: src.slice(0, d.end + after[0].length), text: d.tex, display: true };
  }
  return undefined;
}

/**
 * The formula between `open` at `at` and the first `close` after at least one character, within
 * MAX_FORMULA_CHARS: found with indexOf over a bounded window, so a document of a hundred thousand
 * unclosed `\\[` costs a bounded look each, not a scan of the rest.
 */
function delimited(src: string, at: number, open: string, close: string): { tex: string; end: number } | undefined {
  if (!src.startsWith(open, at)) return undefined;
  const from = at + open.length;
  const i = src.slice(from, from + MAX_FORMULA_CHARS + close.length).indexOf(close, 1);
  return i < 0 ? undefined : { tex: src.slice(from, from + i), end: from + i + close.length };
}

/** A formula as MathML, or its source in an error box when KaTeX cannot read it. */
export function texToMathml(tex: string, display: boolean): string {
  try {
    const html = katex.renderToString(tex, {
      output: 'mathml',
      displayMode: display,
      throwOnError: true,
      trust: false,
      strict: 'ignore',
      // Hostile input: bounded sizes and macro expansion (KaTeX's own loop guard is 1000).
      maxSize: 50,
      maxExpand: 500,
    });
    // KaTeX escapes attribute values, so a quoted value never holds a quote.
    return html.replace(/\sstyle="[^"]*"/g, '');
  } catch (err) {
    return `<code class="math-error" title="${escapeHtml((err as Error).message)}">${escapeHtml(display ? `$$${tex}$$` : `$${tex}$`)}</code>`;
  }
}

/**
 * Where a plain-text run must stop so an inline formula after it is seen: its first `$`, `\(` or
 * `\[` past the start. marked's extension `start` hook would find the same by searching the whole
 * rest of the paragraph at every token (quadratic on hostile input); cutting the text tokens marked
 * found is linear. (A `$$` line inside a paragraph is then read as inline display math.)
 */
export function mathStartIn(text: string): number | undefined {
  const i = text.slice(1).search(/\$|\\[([]/);
  return i < 0 ? undefined : i + 1;
}

/**
 * Where a later line of a paragraph (its `raw`, the start of `src`) begins a display-math block
 * (`$$` or `\\[` at its start, closed with nothing after on its line), or undefined.
 */
export function displayMathLine(raw: string, src: string): number | undefined {
  for (const m of raw.matchAll(/\n {0,3}(?:\$\$|\\\[)/g)) {
    const at = m.index + 1;
    if (blockMath(src.slice(at))) return at;
  }
  return undefined;
}
