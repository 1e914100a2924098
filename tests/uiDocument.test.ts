/**
 * Rendered documents in the web console (issue 16): markdown with math (MathML), GFM tables,
 * highlighted code and the run's figures; flagged numbers and citations marked in place; hostile
 * markdown shown as text with only allowed links; and `GET /runs/<id>/files/<path>` over HTTP
 * against a real LocalArtifactStore (and a real dev server's client, which the console needs).
 */
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from '../activities/store/localStore.js';
import type { CitationReport } from '../common/citations.js';
import { citationReports, flaggedCitationsOf } from '../scripts/ui/citations.js';
import { csvTableHtml } from '../scripts/ui/csvTable.js';
import { documentSection, resultTablesSection } from '../scripts/ui/documentSection.js';
import { renderDocument, type NumberMark } from '../scripts/ui/document.js';
import { CONTENT_SECURITY_POLICY } from '../scripts/ui/html.js';
import { classifyHref } from '../scripts/ui/markdownLinks.js';
import { unsafeHtmlProblems } from '../scripts/ui/markdownSafety.js';
import { loadRunArtifacts } from '../scripts/ui/runArtifacts.js';
import type { RunDetails } from '../scripts/ui/runDetails.js';
import type { RunView } from '../scripts/lib/runs.js';
import { startConsoleServer, type ConsoleServer } from '../scripts/ui/server.js';
import { SHARED_DIR } from './helpers/shared.js';
import { createDevServerEnv, tempDir } from './helpers/temporal.js';

const RUN = 'run-doc-1';
const run = (names: string[]) => ({ runId: RUN, names: new Set(names) });
/** Every address the renderer may write: an anchor, the console's own file route, http(s), mailto. */
const ALLOWED_ADDRESS = /^(?:#|\/runs\/|https?:|mailto:)/;

/** Each tag's attribute names, read with quoted values blanked (text and values may say `onerror=`). */
function attributeNames(html: string): string[] {
  return [...html.matchAll(/<[a-zA-Z][^>]*>/g)].flatMap((tag) => [...tag[0].replace(/"[^"]*"/g, '""').matchAll(/\s([^\s=>]+)=/g)].map((m) => m[1]));
}

function attributes(html: string, name: string): string[] {
  return [...html.matchAll(new RegExp(`\\s${name}="([^"]*)"`, 'g'))].map((m) => m[1]);
}

describe('rendered documents', () => {
  it('renders headings, GFM tables, math as MathML with no style attribute, and highlighted code', () => {
    const text = [
      '# Calibration under shift',
      '',
      'The loss is $\\mathcal{L} = -\\sum_i y_i \\log p_i$ and \\(a^2\\); prices like $5 and $10 stay text.',
      '',
      '$$',
      '\\fcolorbox{red}{blue}{x} = \\frac{a}{b}',
      '$$',
      '',
      '| method | accuracy |',
      '|---|---:|',
      '| ours | 0.91 |',
      '',
      '```python',
      'def f(x):',
      '    return "<b>"  # not markup',
      '```',
      '',
      '- [x] done *em* **strong**',
    ].join('\n');
    const { html, unplaced, shownAsText } = renderDocument(text);
    expect(shownAsText).toBeUndefined();
    expect(unplaced).toEqual([]);
    expect(html).toContain('<h1>Calibration under shift</h1>');
    expect(html).toContain('<th align="right">accuracy</th>');
    expect(html).toContain('<td align="right">0.91</td>');
    expect((html.match(/<math xmlns="http:\/\/www\.w3\.org\/1998\/Math\/MathML"/g) ?? []).length).toBe(3);
    expect(html).toContain('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">');
    expect(html).toContain('prices like $5 and $10 stay text');
    // KaTeX writes a style attribute for \fcolorbox's border even as MathML: removed (the CSP allows none).
    expect(html).not.toMatch(/\sstyle=/);
    expect(html).toContain('<span class="hljs-keyword">def</span>');
    expect(html).toContain('<span class="hljs-string">&quot;&lt;b&gt;&quot;</span>');
    expect(html).toContain('<input checked="" disabled="" type="checkbox"> done <em>em</em> <strong>strong</strong>');
    expect(unsafeHtmlProblems(html)).toEqual([]);
  });

  it('shows hostile markdown as text: raw HTML escaped, no handler or style, links only to allowed places', () => {
    const hostile = [
      '# Title <script>window.__x = 1</script>',
      '',
      '<img src=x onerror=alert(1)>',
      '',
      '<iframe src="https://evil.example"></iframe><style>body{display:none}</style><svg onload=alert(2)>',
      '',
      'Inline <a href="javascript:alert(3)" onclick="alert(4)">raw link</a> and <b onmouseover=alert(5)>bold</b>.',
      '',
      '[js](javascript:alert(6)) [upper](JAVASCRIPT:alert(7)) [entity](&#x6A;avascript:alert(8)) [named](javascript&colon;alert(9))',
      '[data](data:text/html,<script>alert(10)</script>) [vb](vbscript:msgbox) [proto](//evil.example/x) [abs](/etc/passwd) [up](../../etc/passwd)',
      '<javascript:alert(11)> [t](https://ok.example/ "a\\" onmouseover=\\"alert(12)")',
      '',
      '![x](x.png" onerror="alert(13)) ![svg](data:image/svg+xml,<svg/onload=alert(14)>)',
      '',
      '$\\href{javascript:alert(15)}{click}$ $\\htmlStyle{color:red}{x}$ $\\url{javascript:alert(16)}$',
      '',
      '[ok](https://example.org/a?b=1&c=2) [mail](mailto:x@example.org) [anchor](#results) [log](results/log.txt)',
    ].join('\n');
    const { html, shownAsText } = renderDocument(hostile, [], { run: run(['results/log.txt']) });
    expect(shownAsText).toBeUndefined();
    expect(unsafeHtmlProblems(html)).toEqual([]);
    expect(html).not.toMatch(/<(script|iframe|style|svg|object|embed|form|base|meta|link)\b/i);
    expect(html).not.toMatch(/<img\b/);
    expect(attributeNames(html).filter((a) => /^on|^style$/i.test(a))).toEqual([]);
    expect(new Set(attributeNames(html))).toEqual(new Set(['class', 'title', 'href', 'rel', 'xmlns', 'mathcolor', 'encoding']));
    expect(html).toContain('Title &lt;script&gt;window.__x = 1&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    for (const href of attributes(html, 'href')) expect(href, href).toMatch(ALLOWED_ADDRESS);
    expect(attributes(html, 'href')).toEqual(['https://ok.example/', 'https://example.org/a?b=1&amp;c=2', 'mailto:x@example.org', '#results', `/runs/${RUN}/files/results/log.txt`]);
    // Each refused link keeps its text, and says why on hover.
    expect(html).toContain('<span class="link-refused" title="link not followed: a javascript: address">js</span>');
    expect(html).toContain('<span class="link-refused" title="link not followed: a javascript: address">entity</span>');
    expect(html).toContain('<span class="link-refused" title="link not followed: the address holds character references">named</span>');
    expect(html).toContain('<span class="link-refused" title="link not followed: an absolute path, not one relative to the document">proto</span>');
    expect(html).toContain('<span class="link-refused" title="link not followed: a path that leaves the run&#39;s folder">up</span>');
  });

  it('reads addresses as a browser does before deciding (tabs, controls, case, references)', () => {
    expect(classifyHref('java\tscript:alert(1)', '')).toEqual({ kind: 'refused', why: 'a javascript: address' });
    expect(classifyHref(' \u0001javascript:alert(1)', '')).toEqual({ kind: 'refused', why: 'a javascript: address' });
    expect(classifyHref('&#106;avascript:alert(1)', '')).toEqual({ kind: 'refused', why: 'a javascript: address' });
    expect(classifyHref('HTTPS://example.org', '')).toEqual({ kind: 'external', href: 'HTTPS://example.org', scheme: 'https' });
    expect(classifyHref('figures/a%20b.png?x=1#y', 'results')).toEqual({ kind: 'runFile', path: 'results/figures/a b.png' });
    expect(classifyHref('../paper.md', 'results')).toEqual({ kind: 'runFile', path: 'paper.md' });
    expect(classifyHref('..\\..\\x', 'results')).toEqual({ kind: 'refused', why: 'a path with backslashes' });
  });

  it('renders a huge table whole, and hostile nesting or unclosed math in bounded time (printed)', () => {
    const rows = 3000;
    const columns = 30;
    const table = [
      `| ${Array.from({ length: columns }, (_, c) => `col${c}`).join(' | ')} |`,
      `|${'---|'.repeat(columns)}`,
      ...Array.from({ length: rows }, (_, r) => `| ${Array.from({ length: columns }, (_, c) => `<b>${r * c}</b>`).join(' | ')} |`),
    ].join('\n');
    const timings: string[] = [];
    const timed = (name: string, text: string) => {
      const t = performance.now();
      const rendered = renderDocument(text);
      const ms = performance.now() - t;
      timings.push(`${name} (${(text.length / 1024).toFixed(0)} KB) ${ms.toFixed(0)} ms`);
      return { ...rendered, ms };
    };
    const big = timed('table', table);
    expect(big.shownAsText).toBeUndefined();
    expect((big.html.match(/<tr>/g) ?? []).length).toBe(rows + 1);
    expect(big.html).toContain(`<td>&lt;b&gt;${(rows - 1) * (columns - 1)}&lt;/b&gt;</td>`);
    expect(unsafeHtmlProblems(big.html)).toEqual([]);

    // Deeper than marked's stack: shown as written, saying so.
    const deep = timed('20,000 nested quotes', `${'>'.repeat(20_000)} <script>x</script>`);
    expect(deep.shownAsText).toMatch(/^it could not be rendered \(Maximum call stack size exceeded\)$/);
    expect(deep.html).toMatch(/^<pre class="doc">&gt;&gt;&gt;/);
    expect(deep.html).not.toContain('<script>');

    // Openers with no closer (each looked at within a bounded window), and dollars everywhere.
    const unclosed = timed('100,000 unclosed \\[', 'a \\[ '.repeat(100_000));
    const dollars = timed('100,000 $a', '$a '.repeat(100_000));
    // Times are printed, not asserted (a loaded CI machine took 35 s for what takes 1 s here); a
    // renderer that runs away on these inputs fails by the test's timeout.
    expect(unclosed.html.length + dollars.html.length).toBeGreaterThan(0);
    console.log(`uiDocument: render times on this machine: ${timings.join('; ')}`);
  });

  it('marks flagged numbers in text, whole formulas, code and links; lists the ones it cannot place', () => {
    const text = [
      '# <Title>',
      'We reach 0.91 and 0.91 again.',
      'Only 12.5% here, $x = 0.77$ and `0.55`, and **0.3**3.',
      '',
      '[ref]: http://a.example/0.44',
      '',
      '[link 0.66](http://e.example/0.88)',
    ].join('\n');
    const marks: NumberMark[] = [
      { line: 2, column: 18, text: '0.91', reason: 'in no measured file' },
      { line: 3, column: 5, text: '12.5%', reason: 'a "typed" <file>' },
      { line: 3, column: 0, text: '0.77', reason: 'in math' },
      { line: 3, column: 0, text: '0.55', reason: 'in code' },
      { line: 3, column: 0, text: '0.33', reason: 'split by bold' },
      { line: 5, column: 0, text: '0.44', reason: 'in a link definition' },
      { line: 7, column: 0, text: '0.66', reason: 'in link text' },
      { line: 7, column: 0, text: '0.88', reason: 'in an address' },
      { line: 2, column: 0, text: '7.7', reason: 'gone' },
      { line: 9, column: 0, text: '1', reason: 'past the end' },
    ];
    const { html, unplaced } = renderDocument(text, marks, { document: 'paper.md' });
    const mark = (reason: string, at: string) => `<mark class="flag" title="${reason}" data-finding="paper.md:${at}">`;
    expect(html).toContain(`We reach 0.91 and ${mark('in no measured file', '2:18')}0.91</mark> again.`);
    expect(html).toContain(`Only ${mark('a &quot;typed&quot; &lt;file&gt;', '3:5')}12.5%</mark> here`);
    expect(html).toContain(`${mark('in math', '3:0')}<span class="katex"><math`);
    expect(html).toContain(`${mark('in code', '3:0')}<code>0.55</code></mark>`);
    expect(html).toContain(`${mark('in an address', '7:0')}<a href="http://e.example/0.88" rel="noopener noreferrer nofollow">link ${mark('in link text', '7:0')}0.66</mark></a></mark>`);
    expect(html).toContain('<strong>0.3</strong>3');
    expect(unplaced.map((m) => m.text)).toEqual(['7.7', '0.33', '0.44', '1']);
    expect(html).not.toMatch(/[\uE000-\uF8FF]/);
    expect(unsafeHtmlProblems(html)).toEqual([]);
  });

  it('keeps private-use characters of the text from posing as marks', () => {
    const { html, unplaced } = renderDocument('Icon \uE000\uE100 and 0.5\uE001\uE100 end.', [{ line: 1, column: 15, text: '0.5', reason: 'r' }]);
    expect(unplaced).toEqual([]);
    expect(html).toBe('<div class="doc"><p>Icon \uFFFD\uFFFD and <mark class="flag" title="r" data-finding="document:1:15">0.5</mark>\uFFFD\uFFFD end.</p>\n</div>');
  });

  it('marks flagged citations by id, by the id\'s number, or by title, and lists those written nowhere', () => {
    const text = 'As shown by arXiv:2401.01234v2 and later [2], see doi.org/10.1145/3597503.3623322.\n\n[2] Smith. "Deep Nets Are Great". 2020.';
    const { html, unplacedCitations } = renderDocument(text, [], {
      citations: [
        { id: 'arXiv:2401.01234', reason: 'not_found', detail: 'asked arXiv, OpenAlex' },
        { id: 'DOI:10.1145/3597503.3623322', reason: 'title_mismatch', detail: 'the record is "Other" (similarity 0.2)' },
        { title: 'Deep nets are great', reason: 'no_id' },
        { id: 'arXiv:9999.99999', title: 'Nowhere to be seen', reason: 'not_found' },
      ],
    });
    expect(html).toContain('<mark class="citation-flag" title="citation not found: asked arXiv, OpenAlex" data-citation="arXiv:2401.01234">arXiv:2401.01234v2</mark>');
    expect(html).toContain('doi.org/<mark class="citation-flag" title="citation title mismatch: the record is &quot;Other&quot; (similarity 0.2)" data-citation="DOI:10.1145/3597503.3623322">10.1145/3597503.3623322</mark>.');
    expect(html).toContain('&quot;<mark class="citation-flag" title="citation no id" data-citation="Deep nets are great">Deep Nets Are Great</mark>&quot;');
    expect(unplacedCitations).toEqual([{ id: 'arXiv:9999.99999', title: 'Nowhere to be seen', reason: 'not_found' }]);
  });

  it('shows the run\'s figures inline (relative to the document), external ones as a link, missing ones by name', () => {
    const text = '![loss curve](figures/loss.png "Loss") ![top](../paper-fig.png) ![ext](https://cdn.example/x.png) ![gone](figures/none.png) ![](data:image/png;base64,AAAA)';
    const { html } = renderDocument(text, [], { folder: 'results', run: run(['results/figures/loss.png', 'paper-fig.png']) });
    expect(html).toContain(`<img class="figure" src="/runs/${RUN}/files/results/figures/loss.png" alt="loss curve" title="Loss" loading="lazy">`);
    expect(html).toContain(`<img class="figure" src="/runs/${RUN}/files/paper-fig.png" alt="top" loading="lazy">`);
    expect(html).toContain('<a class="external-figure" href="https://cdn.example/x.png" rel="noopener noreferrer nofollow">ext (external figure, not loaded: https://cdn.example/x.png)</a>');
    expect(html).toContain('<span class="missing-figure">gone (figure not found in the run&#39;s files)</span>');
    expect(html).toContain('<span class="missing-figure">figure (figure not shown: a data: address)</span>');
    // Without a run to look in, nothing is loaded.
    expect(renderDocument('![loss](figures/loss.png)').html).toContain('<span class="missing-figure">loss (figure not found in the run&#39;s files)</span>');
  });

  it('the safety check refuses tags, handlers, styles and addresses the renderer never writes', () => {
    expect(unsafeHtmlProblems('<p class="x">a &lt; b</p><math display="block"><mi>x</mi></math>')).toEqual([]);
    expect(unsafeHtmlProblems('<script>x</script>')).toEqual(['tag <script>', 'tag <script>']);
    expect(unsafeHtmlProblems('<p onclick="x">')).toEqual(['attribute onclick on <p>']);
    expect(unsafeHtmlProblems('<mpadded style="border: 1px">')).toEqual(['attribute style on <mpadded>']);
    expect(unsafeHtmlProblems('<a href="javascript:x">')).toEqual(['href "javascript:x" on <a>']);
    expect(unsafeHtmlProblems('<img src="https://evil.example/x.png">')).toEqual(['src "https://evil.example/x.png" on <img>']);
    expect(unsafeHtmlProblems('<p>a < b</p>')).toEqual(['unexpected "<" at 5: "< b</p>"']);
    expect(unsafeHtmlProblems("<p title='x' onclick=y>")[0]).toMatch(/^unexpected "<"/);
  });

  it('renders real agent-written documents (the MLR-Bench results) with no safety problem (counts printed)', () => {
    const root = path.join(SHARED_DIR, 'mlrbench-results');
    const all = (readdirSync(root, { recursive: true }) as string[]).filter((f) => f.endsWith('.md'));
    // The end-to-end runs (papers with their figures beside them) and the first 300 ideas and proposals.
    const files = [...all.filter((f) => f.startsWith('end2end_claude/')), ...all.filter((f) => !f.startsWith('end2end_claude/')).slice(0, 300)];
    expect(files.length).toBeGreaterThan(300);
    let formulas = 0;
    let mathErrors = 0;
    let figures = 0;
    const t = performance.now();
    for (const f of files) {
      const full = path.join(root, f);
      const names = (readdirSync(path.dirname(full), { recursive: true }) as string[]).map(String);
      const { html, shownAsText } = renderDocument(readFileSync(full, 'utf8'), [], { run: run(names) });
      expect(shownAsText, f).toBeUndefined();
      expect(html, f).not.toMatch(/\sstyle=/);
      formulas += (html.match(/<math /g) ?? []).length;
      mathErrors += (html.match(/class="math-error"/g) ?? []).length;
      figures += (html.match(/<img /g) ?? []).length;
    }
    expect(formulas).toBeGreaterThan(1000);
    expect(figures).toBeGreaterThan(10);
    console.log(`uiDocument: ${files.length} MLR-Bench documents in ${(performance.now() - t).toFixed(0)} ms: ${formulas} formulas as MathML, ${mathErrors} KaTeX could not read (shown as source), ${figures} figures inline`);
  });

  it('shows a CSV as an escaped table with capped rows and columns', () => {
    const csv = ['method,"acc, %",note', 'ours,91.5,"<script>x</script>"', ...Array.from({ length: 80 }, (_, i) => `m${i},${i},`)].join('\n');
    const html = csvTableHtml(csv, 50);
    expect(html).toContain('<thead><tr><th>method</th><th>acc, %</th><th>note</th></tr></thead>');
    expect(html).toContain('<tr><td>ours</td><td class="num">91.5</td><td>&lt;script&gt;x&lt;/script&gt;</td></tr>');
    expect((html.match(/<tr>/g) ?? []).length).toBe(51);
    expect(html).toContain('<p class="muted">first 50 of 81 rows shown</p>');
    const wide = csvTableHtml(`${Array.from({ length: 100 }, (_, i) => `c${i}`).join(',')}\n${'1,'.repeat(99)}1`, 10);
    expect(wide).toContain('first 60 of 100 columns shown');
    expect(csvTableHtml('a,"b\n1,2', 10)).toMatch(/^<p class="muted">could not read it as CSV: /);
  });
});

describe('citation reports and the files route over HTTP', () => {
  const dir = tempDir('ui-document');
  const store = new LocalArtifactStore(path.join(dir, 'artifacts'));
  let env: TestWorkflowEnvironment;
  let consoleServer: ConsoleServer;
  /** A 1×1 PNG. */
  const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8/5+hHgAHggJ/PchI7wAAAABJRU5ErkJggg==', 'base64');

  /** A raw request: fetch would resolve `..` and encode the path before sending it. */
  function rawGet(pathname: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    const url = new URL(consoleServer.url);
    return new Promise((resolve, reject) => {
      http
        .get({ host: url.hostname, port: url.port, path: pathname }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
        })
        .on('error', reject);
    });
  }

  beforeAll(async () => {
    env = await createDevServerEnv();
    await store.put(RUN, 'results/figures/loss.png', PNG, 'image/png');
    await store.put(RUN, 'results/plot.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script><rect width="1" height="1"/></svg>', 'image/svg+xml');
    await store.put(RUN, 'results/metrics.csv', ['method,score', 'ours,<b>0.9</b>', ...Array.from({ length: 1500 }, (_, i) => `m${i},${i}`)].join('\n'), 'text/csv');
    await store.put(RUN, 'results/log.txt', 'step 1 <script>alert(1)</script>\n', 'text/plain');
    await store.put(RUN, 'results/weights.bin', Buffer.from([0, 1, 2, 255, 0]), 'application/octet-stream');
    await store.put(RUN, 'results/huge.txt', Buffer.alloc(6 * 1024 * 1024, 'a'), 'text/plain');
    const report: CitationReport = { checked: 2, verified: 1, verifiedIds: ['arXiv:1'], flagged: [{ id: 'arXiv:2401.01234', reason: 'not_found', detail: 'asked arXiv' }] };
    await store.put(RUN, 'citations/paper.json', JSON.stringify(report), 'application/json');
    // A link inside the run's folder to a file outside it is not one of the run's files.
    writeFileSync(path.join(dir, 'secret.txt'), 'secret');
    mkdirSync(path.join(store.root, 'runs', RUN, 'links'), { recursive: true });
    symlinkSync(path.join(dir, 'secret.txt'), path.join(store.root, 'runs', RUN, 'links', 'secret.txt'));
    consoleServer = await startConsoleServer({ client: env.client, store, host: '127.0.0.1', port: 0 });
  }, 120_000);

  afterAll(async () => {
    await consoleServer?.close();
    await env?.teardown();
  });

  it('reads the citation reports as lab show does, per document', async () => {
    const { reports, error } = await citationReports(store, RUN, await store.listRun(RUN));
    expect(error).toBeUndefined();
    expect(flaggedCitationsOf(reports, 'paper.md')).toEqual([{ id: 'arXiv:2401.01234', reason: 'not_found', detail: 'asked arXiv' }]);
    expect(flaggedCitationsOf(reports, 'related_work.md')).toEqual([]);
  });

  it('the run page shows a document with the run\'s figure, its flagged number and citation marked, and the result CSV as a table', async () => {
    const paper = '# Paper\n\nWe reach 0.93 (arXiv:2401.01234).\n\n![loss](results/figures/loss.png) ![missing](results/figures/gone.png)\n\nUncited: arXiv:5555.55555.';
    await store.put(RUN, 'paper.md', paper);
    const artifacts = await loadRunArtifacts(store, RUN);
    const details = {
      view: { runId: RUN } as RunView,
      documents: [],
      provenance: { state: 'ok', checked: 1, results: 1, flagged: [{ document: 'paper.md', line: 3, column: 9, text: '0.93', reason: 'in no measured file', verdict: 'unsupported' }] },
      experiment: { state: 'none' },
      artifacts,
    } as unknown as RunDetails;
    const html = documentSection({ stage: 'paper', path: `runs/${RUN}/paper.md`, document: 'paper.md', text: paper, atGate: false }, details);
    expect(html).toContain('We reach <mark class="flag" title="in no measured file" data-finding="paper.md:3:9">0.93</mark> (<mark class="citation-flag" title="citation not found: asked arXiv" data-citation="arXiv:2401.01234">arXiv:2401.01234</mark>).');
    expect(html).toContain(`<img class="figure" src="/runs/${RUN}/files/results/figures/loss.png" alt="loss" loading="lazy">`);
    expect(html).toContain('<span class="missing-figure">missing (figure not found in the run&#39;s files)</span>');
    const tables = resultTablesSection(details);
    expect(tables).toContain(`<h4><a href="/runs/${RUN}/files/results/metrics.csv">results/metrics.csv</a></h4>`);
    expect(tables).toContain('<tr><td>ours</td><td>&lt;b&gt;0.9&lt;/b&gt;</td></tr>');
    expect(tables).toContain('first 50 of 1501 rows shown');
  });

  it('serves images with their type, an svg sandboxed, and refuses paths out of the run', async () => {
    const png = await fetch(`${consoleServer.url}/runs/${RUN}/files/results/figures/loss.png`);
    expect(png.status).toBe(200);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect(png.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await png.arrayBuffer())).toEqual(PNG);

    const svg = await fetch(`${consoleServer.url}/runs/${RUN}/files/results/plot.svg`);
    expect(svg.status).toBe(200);
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(svg.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'; style-src 'unsafe-inline'");

    for (const bad of [`/runs/${RUN}/files/..%2F..%2Fsecret.txt`, `/runs/${RUN}/files/results/..%2F..%2F..%2Fsecret.txt`, `/runs/${RUN}/files/%2Fetc%2Fpasswd`, `/runs/${RUN}/files/results%5C..%5C..%5Csecret.txt`]) {
      const r = await rawGet(bad);
      expect(r.status, bad).toBe(400);
      expect(r.body).toMatch(/not a file of the run: (a path with \.\.|an absolute path|a name the artifact store does not hold)/);
    }
    expect((await rawGet('/runs/bad%20id!/files/x.png')).status).toBe(400);
    expect((await rawGet(`/runs/${RUN}/files/links/secret.txt`)).status).toBe(404);
    expect((await rawGet(`/runs/${RUN}/files/results/none.png`)).status).toBe(404);
    expect((await rawGet(`/runs/other-run/files/results/figures/loss.png`)).status).toBe(404);
  });

  it('shows a CSV as a table page, text escaped, and refuses binary and too-large files', async () => {
    const csv = await fetch(`${consoleServer.url}/runs/${RUN}/files/results/metrics.csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(csv.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const table = await csv.text();
    expect(table).toContain('<tr><td>ours</td><td>&lt;b&gt;0.9&lt;/b&gt;</td></tr>');
    expect((table.match(/<tr>/g) ?? []).length).toBe(1001);
    expect(table).toContain('first 1000 of 1501 rows shown');

    const text = await (await fetch(`${consoleServer.url}/runs/${RUN}/files/results/log.txt`)).text();
    expect(text).toContain('<pre class="doc file">step 1 &lt;script&gt;alert(1)&lt;/script&gt;\n</pre>');

    const binary = await fetch(`${consoleServer.url}/runs/${RUN}/files/results/weights.bin`);
    expect(binary.status).toBe(415);
    expect(await binary.text()).toContain('results/weights.bin is not text, CSV or an image the console shows');
    const huge = await fetch(`${consoleServer.url}/runs/${RUN}/files/results/huge.txt`);
    expect(huge.status).toBe(413);
    expect(await huge.text()).toContain('results/huge.txt is 6,291,456 bytes; the console shows files up to 5 MB');
    expect((await fetch(`${consoleServer.url}/runs/${RUN}/files/results/log.txt`, { method: 'POST' })).status).toBe(405);
  });
});
