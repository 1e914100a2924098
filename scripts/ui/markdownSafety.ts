/**
 * A last look at rendered document HTML before the console sends it: every tag is one the
 * renderer (marked, KaTeX's MathML, highlight.js, the marks) writes, with attributes of plain
 * names, no event handler or `style`, links and images only where markdownLinks.ts allows. The
 * renderers escape the document's text; this catches a renderer that one day does not.
 */

const HTML_TAGS = 'p h1 h2 h3 h4 h5 h6 ul ol li blockquote pre code em strong del a img table thead tbody tr th td br hr input span div mark';
const MATHML_TAGS =
  'math semantics annotation mrow mi mn mo ms mtext mspace msup msub msubsup mfrac msqrt mroot mstyle mpadded mphantom menclose mover munder munderover mtable mtr mtd mlabeledtr merror mmultiscripts mprescripts none';
const ALLOWED_TAGS = new Set(`${HTML_TAGS} ${MATHML_TAGS}`.split(' '));
/** Attributes that load or run something, or style the page (the CSP refuses inline styles anyway). */
const REFUSED_ATTRIBUTES = /^(?:on|style$|srcset$|srcdoc$|formaction$|action$|xlink:|background$|poster$|ping$|dynsrc$|lowsrc$)/i;
const SAFE_HREF = /^(?:#|\/runs\/|https?:|mailto:)/i;
const TAG = /<(\/?)([A-Za-z][A-Za-z0-9]*)((?:\s+[A-Za-z_:][A-Za-z0-9_:.-]*(?:="[^"<>]*")?)*)\s*\/?>/y;
const ATTRIBUTE = /([A-Za-z_:][A-Za-z0-9_:.-]*)(?:="([^"]*)")?/g;

/** What is wrong with `html` (empty when nothing is). Attribute values are checked as written: a browser decoding a reference cannot change a prefix. */
export function unsafeHtmlProblems(html: string): string[] {
  const problems: string[] = [];
  for (let at = html.indexOf('<'); at >= 0 && problems.length < 10; at = html.indexOf('<', at + 1)) {
    TAG.lastIndex = at;
    const m = TAG.exec(html);
    if (!m) {
      problems.push(`unexpected "<" at ${at}: ${JSON.stringify(html.slice(at, at + 40))}`);
      continue;
    }
    const tag = m[2].toLowerCase();
    if (!ALLOWED_TAGS.has(tag)) problems.push(`tag <${tag}>`);
    if (m[1]) continue;
    for (const [, name, value = ''] of m[3].matchAll(ATTRIBUTE)) {
      const attr = name.toLowerCase();
      if (REFUSED_ATTRIBUTES.test(attr)) problems.push(`attribute ${attr} on <${tag}>`);
      else if (attr === 'href' && !(tag === 'a' && SAFE_HREF.test(value))) problems.push(`href ${JSON.stringify(value)} on <${tag}>`);
      else if (attr === 'src' && !(tag === 'img' && value.startsWith('/runs/'))) problems.push(`src ${JSON.stringify(value)} on <${tag}>`);
    }
  }
  return problems;
}
