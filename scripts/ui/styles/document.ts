/**
 * Styles of rendered stage documents (part of the page's one inline style): markdown, MathML,
 * tables, figures, the marks on flagged numbers and citations, and a small highlight.js colour
 * theme (its class names; no highlight.js stylesheet is loaded).
 */
export const DOCUMENT_STYLE = `
div.doc { background: #fcfcfc; border: 1px solid #eee; padding: .25rem 1rem; max-height: 48rem; overflow: auto; overflow-wrap: break-word; }
div.doc h1 { font-size: 1.45rem; } div.doc h2 { font-size: 1.25rem; } div.doc h3 { font-size: 1.1rem; } div.doc h4, div.doc h5, div.doc h6 { font-size: 1rem; }
div.doc blockquote { margin: .5rem 0; padding-left: .75rem; border-left: 3px solid #ddd; color: #444; }
div.doc pre { background: #f6f8fa; padding: .6rem .75rem; overflow-x: auto; border-radius: 4px; }
div.doc code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
div.doc :not(pre) > code { background: #f0f0f0; padding: 0 .25rem; border-radius: 3px; }
div.doc table { width: auto; margin: .5rem 0; }
div.doc th, div.doc td { border: 1px solid #e3e3e3; }
div.doc img.figure { max-width: 100%; height: auto; display: block; margin: .5rem 0; }
.table-scroll { max-width: 100%; overflow-x: auto; }
.table-scroll table.csv { width: auto; }
.math-display { overflow-x: auto; margin: .5rem 0; }
math { font-size: 1.1em; }
math[display="block"] { margin: .25rem 0; }
.math-error { color: #b71c1c; }
.missing-figure, .link-refused, .raw-html { color: #8a5300; }
.missing-figure { display: inline-block; border: 1px dashed #d7b98e; padding: .1rem .4rem; }
a.external-figure { display: inline-block; border: 1px dashed #90caf9; padding: .1rem .4rem; }
.link-refused { text-decoration: underline dotted; cursor: help; }
mark.flag { background: #ffd54f; }
mark.citation-flag { background: #ffccbc; }
mark.block { display: block; padding: .2rem; }
.document-note { margin: .25rem 0; }
.hljs-comment, .hljs-quote { color: #6a737d; font-style: italic; }
.hljs-keyword, .hljs-selector-tag, .hljs-literal, .hljs-type, .hljs-built_in { color: #a626a4; }
.hljs-string, .hljs-regexp, .hljs-addition, .hljs-attribute, .hljs-meta .hljs-string { color: #22863a; }
.hljs-number, .hljs-symbol, .hljs-bullet, .hljs-variable, .hljs-template-variable { color: #b76b01; }
.hljs-title, .hljs-section, .hljs-name, .hljs-selector-id, .hljs-selector-class { color: #005cc5; }
.hljs-meta, .hljs-attr, .hljs-params { color: #d73a49; }
.hljs-deletion { color: #b31d28; background: #ffeef0; }
.hljs-emphasis { font-style: italic; } .hljs-strong { font-weight: 600; }
`;
