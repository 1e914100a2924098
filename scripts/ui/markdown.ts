/**
 * Agent-written markdown as HTML for the console (marked, GFM tables), treating the text as
 * hostile: raw HTML in it is shown as text, links go only where {@link classifyHref} allows,
 * figures load only from the run's own files, math is MathML (KaTeX) and code is highlighted by
 * highlight.js (class names only; the colours are the console's stylesheet). Mark sentinels
 * (markdownMarks.ts) pass through as text; an element a mark cannot sit inside is marked whole.
 */
import hljs from 'highlight.js/lib/common';
import { Marked, Renderer, Tokenizer, type Tokens } from 'marked';
import { escapeHtml } from './html.js';
import { classifyHref, runFileUrl } from './markdownLinks.js';
import { hasSentinel, takeSentinels, wrapInMarks, type SourceMark } from './markdownMarks.js';
import { displayMathLine, mathExtensions, mathStartIn, texToMathml } from './markdownMath.js';

export interface RunFiles {
  runId: string;
  /** The run's readable files (names as `listRun` gives them). */
  names: ReadonlySet<string>;
}

export interface MarkdownOptions {
  /** The document's folder inside the run (`results` for `results/results.md`); '' at the top. */
  folder?: string;
  /** Where relative links and figures point; without it figures are "not found" and relative links not followed. */
  run?: RunFiles;
  /** The marks the sentinels in the source name, for marking a whole formula, code block or link. */
  marks?: SourceMark[];
}

export interface RenderedMarkdown {
  html: string;
  /** Marks placed around a whole element (their sentinels are gone from the HTML). */
  wrapped: Set<number>;
}

/** Code longer than this is shown without highlighting (it stays readable, and the page fast). */
const MAX_HIGHLIGHTED_CHARS = 200_000;
/** How far ahead a text run is searched for a formula before marked's own text rule runs. */
const MATH_LOOKAHEAD = 16_384;
/** Text as HTML keeps the character references it holds (`&copy;`) and escapes everything else. */
const ENTITY = /&(?=#\d{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)/y;

export function renderMarkdown(source: string, options: MarkdownOptions = {}): RenderedMarkdown {
  const folder = options.folder ?? '';
  const marks = options.marks ?? [];
  const wrapped = new Set<number>();
  const markWhole = (html: string, ids: number[], block = false): string => {
    for (const id of ids) wrapped.add(id);
    return wrapInMarks(html, ids, marks, block);
  };

  const renderer = {
    // Raw HTML is the document's text, not markup.
    html({ text, block }: Tokens.HTML | Tokens.Tag): string {
      return block ? `<p class="raw-html">${escapeHtml(text)}</p>` : escapeHtml(text);
    },
    text(this: Renderer, t: Tokens.Text | Tokens.Escape): string {
      // A block-level text token (a tight list item's line) holds inline tokens; any other is escaped here,
      // including text marked already-escaped (text between raw tags like <script>…</script>).
      if ('tokens' in t && t.tokens) return this.parser.parseInline(t.tokens);
      return escapeText(t.text);
    },
    codespan({ text }: Tokens.Codespan): string {
      const s = takeSentinels(text);
      return markWhole(`<code>${escapeHtml(s.text)}</code>`, s.ids);
    },
    code({ text, lang }: Tokens.Code): string {
      const code = takeSentinels(text);
      const info = takeSentinels(lang ?? '');
      const language = info.text.trim().split(/\s+/)[0] ?? '';
      const known = language && code.text.length <= MAX_HIGHLIGHTED_CHARS && hljs.getLanguage(language) ? language : undefined;
      const body = known ? hljs.highlight(code.text, { language: known, ignoreIllegals: true }).value : escapeHtml(code.text);
      const html = `<pre><code class="hljs${known ? ` language-${escapeHtml(known)}` : ''}">${body}</code></pre>\n`;
      return markWhole(html, [...code.ids, ...info.ids], true);
    },
    table(this: Renderer, t: Tokens.Table): string {
      return `<div class="table-scroll">${Renderer.prototype.table.call(this, t)}</div>\n`;
    },
    link(this: Renderer, t: Tokens.Link): string {
      const inner = this.parser.parseInline(t.tokens);
      const href = takeSentinels(t.href);
      const title = takeSentinels(t.title ?? '');
      const titleAttr = title.text ? ` title="${escapeHtml(title.text)}"` : '';
      const target = classifyHref(href.text, folder);
      let html: string;
      if (target.kind === 'external') html = `<a href="${escapeHtml(target.href)}" rel="noopener noreferrer nofollow"${titleAttr}>${inner}</a>`;
      else if (target.kind === 'anchor') html = `<a href="${escapeHtml(target.href)}"${titleAttr}>${inner}</a>`;
      else if (target.kind === 'runFile' && options.run) html = `<a href="${escapeHtml(runFileUrl(options.run.runId, target.path))}"${titleAttr}>${inner}</a>`;
      else {
        const why = target.kind === 'refused' ? target.why : 'no run to look it up in';
        html = `<span class="link-refused" title="${escapeHtml(`link not followed: ${why}`)}">${inner}</span>`;
      }
      // Marks whose text is also in the link's text are placed there; the rest mark the whole link.
      return markWhole(html, [...href.ids, ...title.ids].filter((id) => !hasSentinel(inner, id)));
    },
    image(t: Tokens.Image): string {
      const href = takeSentinels(t.href);
      const alt = takeSentinels(t.text);
      const title = takeSentinels(t.title ?? '');
      return markWhole(figure(href.text, alt.text, title.text, folder, options.run), [...href.ids, ...alt.ids, ...title.ids]);
    },
  };

  const tokenizer = {
    // A text run stops before a possible formula (marked's text rule stops before `\` already), so the
    // math extension gets to look at it. Looking for `$` only near the start, or else in the run marked
    // found, keeps hostile input (100,000 `$a `, or `$` every 5,000 characters) from going quadratic.
    inlineText(this: Tokenizer, src: string): Tokens.Text | undefined {
      const dollar = src.indexOf('$', 1);
      const near = dollar > 0 && dollar < MATH_LOOKAHEAD ? dollar : undefined;
      const token = Tokenizer.prototype.inlineText.call(this, near === undefined ? src : src.slice(0, near));
      const cut = token && near === undefined ? mathStartIn(token.raw) : undefined;
      if (!token || cut === undefined) return token;
      const raw = token.raw.slice(0, cut);
      return { ...token, raw, text: raw };
    },
    // A `$$` or `\[` line ends the paragraph above it, so display math written without a blank line
    // before it is a block (its lines starting with `+` are not read as a list).
    paragraph(this: Tokenizer, src: string): Tokens.Paragraph | undefined {
      const token = Tokenizer.prototype.paragraph.call(this, src);
      const cut = token ? displayMathLine(token.raw, src) : undefined;
      return cut === undefined ? token : Tokenizer.prototype.paragraph.call(this, src.slice(0, cut));
    },
  };

  const marked = new Marked({ gfm: true, breaks: false, async: false, renderer, tokenizer, extensions: mathExtensions((tex, display, block) => {
    const s = takeSentinels(tex);
    const math = texToMathml(s.text, display);
    return markWhole(block ? `<div class="math-display">${math}</div>\n` : math, s.ids, block);
  }) });
  const html = marked.parse(source, { async: false });
  return { html, wrapped };
}

/**
 * A figure: an image of the run's own files, inline; an external one as a link (the console loads
 * nothing from elsewhere); a missing or refused one as its alt text and why.
 */
function figure(href: string, alt: string, title: string, folder: string, run: RunFiles | undefined): string {
  const target = classifyHref(href, folder);
  const altText = alt || 'figure';
  if (target.kind === 'external' && target.scheme !== 'mailto') {
    return `<a class="external-figure" href="${escapeHtml(target.href)}" rel="noopener noreferrer nofollow">${escapeHtml(altText)} (external figure, not loaded: ${escapeHtml(target.href)})</a>`;
  }
  if (target.kind === 'runFile' && run?.names.has(target.path)) {
    const titleAttr = title ? ` title="${escapeHtml(title)}"` : '';
    return `<img class="figure" src="${escapeHtml(runFileUrl(run.runId, target.path))}" alt="${escapeHtml(alt)}"${titleAttr} loading="lazy">`;
  }
  const why = target.kind === 'runFile' ? "figure not found in the run's files" : `figure not shown: ${target.kind === 'refused' ? target.why : 'not an image address'}`;
  return `<span class="missing-figure">${escapeHtml(altText)} (${escapeHtml(why)})</span>`;
}

/** Escapes text for HTML content, keeping character references (`&amp;`, `&#955;`) as written. */
export function escapeText(text: string): string {
  return text.replace(/[&<>"']/g, (c, offset: number) => {
    if (c !== '&') return c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&#39;';
    ENTITY.lastIndex = offset;
    return ENTITY.test(text) ? '&' : '&amp;';
  });
}
