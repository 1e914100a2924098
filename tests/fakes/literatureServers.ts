/**
 * Fake arXiv, Semantic Scholar and OpenAlex APIs on 127.0.0.1 for tests: three HTTP servers that
 * answer in the real APIs' shapes (arXiv's Atom feed with `opensearch:` and `arxiv:` elements and
 * its error entries; the S2 Graph API's `{total, offset, next, data}` and paper objects with only
 * the requested `fields`; OpenAlex's `{meta, results, group_by}` with `abstract_inverted_index`),
 * from a small in-memory corpus. Faults are scriptable per API: status replies (429 with
 * Retry-After, 500), slow replies, hang-ups, and offline (the server stops listening: connection
 * refused). Every request is logged and counted.
 *
 * THE CORPUS IS INVENTED for these tests: the papers, authors, ids and DOIs do not exist (DOIs
 * use 10.5555, a prefix reserved for tests; arXiv numbers are above any month's real count).
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FakeApi = 'arxiv' | 's2' | 'openalex';
export const FAKE_APIS: FakeApi[] = ['arxiv', 's2', 'openalex'];

export interface FakePaper {
  title: string;
  authors: string[];
  year: number;
  abstract: string;
  venue?: string;
  arxivId?: string;
  /** A journal or proceedings DOI (not arXiv's own). */
  doi?: string;
  /** Which APIs know the paper. */
  on: FakeApi[];
  /** The title as OpenAlex writes it, when it differs (case, punctuation). */
  openAlexTitle?: string;
  /** OpenAlex's record of an arXiv paper that it does not link to arXiv (no arXiv DOI or landing page). */
  openAlexUnlinked?: boolean;
}

const LONG_ABSTRACT = Array.from(
  { length: 30 },
  (_, i) => `Sentence ${i + 1} of a deliberately long abstract about calibration benchmarks, written to exceed the record cap.`,
).join(' ');

/** Invented papers (see the file comment). */
export const FAKE_CORPUS: FakePaper[] = [
  {
    title: 'Calibration Under Distribution Shift: A Benchmark of Post-hoc Methods',
    authors: ['Mira Castellanos', 'Joon-ho Adebayo', 'Tova Lindqvist'],
    year: 2024,
    abstract: 'We benchmark post-hoc calibration methods such as temperature scaling under covariate and label distribution shift across twelve datasets.',
    venue: 'Transactions on Imaginary Machine Learning',
    arxivId: '2409.90001',
    doi: '10.5555/timl.2024.0117',
    on: ['arxiv', 's2', 'openalex'],
  },
  {
    title: 'Temperature Scaling under Covariate Shift — a Reappraisal',
    authors: ['Ilse Marchetti', 'Dev Okonkwo'],
    year: 2024,
    abstract: 'Temperature scaling is revisited for calibration under covariate distribution shift; a single scalar fails when the shift is severe.',
    arxivId: '2410.90002',
    on: ['arxiv', 'openalex'],
    openAlexTitle: 'Temperature scaling under covariate shift: A reappraisal',
    openAlexUnlinked: true,
  },
  {
    title: 'Ensembles and Calibration Under Distribution Shift in Tabular Data',
    authors: ['Rosalind Achterberg', 'Kwame Ferreira-Lund'],
    year: 2023,
    abstract: 'Deep ensembles improve calibration under distribution shift on tabular benchmarks, at a cost of compute.',
    venue: 'Proceedings of the Invented Conference on Data',
    doi: '10.5555/icd.2023.42',
    on: ['s2', 'openalex'],
  },
  {
    title: 'Conformal Prediction Sets for Shifted Test Distributions',
    authors: ['Hana Vukovic', 'Pieter Oyelaran', 'Li Marisol'],
    year: 2023,
    abstract: 'Weighted conformal prediction keeps coverage under covariate shift when likelihood ratios are estimated well.',
    arxivId: '2305.90003',
    on: ['arxiv', 's2', 'openalex'],
  },
  {
    title: 'Test-Time Adaptation with Entropy Minimisation Revisited',
    authors: ['Oskar Nakamura-Reyes'],
    year: 2024,
    abstract: 'Entropy minimisation at test time adapts normalisation statistics but can collapse; we study when adaptation helps calibration.',
    arxivId: '2402.90004',
    on: ['arxiv', 's2'],
  },
  {
    title: 'Label Shift Estimation via Black-Box Predictors: A Second Look',
    authors: ['Greta Oyelowo', 'Samir Halvorsen'],
    year: 2022,
    abstract: 'Black-box shift estimation recovers label shift from confusion matrices; we analyse its variance for small target samples.',
    venue: 'Journal of Made-Up Statistics',
    doi: '10.5555/jmus.2022.7',
    on: ['s2', 'openalex'],
  },
  {
    title: 'Selective Classification and Abstention Under Shift',
    authors: ['Ana Beltrão', 'Yusuf Kettering'],
    year: 2024,
    abstract: 'Abstention policies tuned in distribution lose their risk guarantees under shift; a recalibration step restores them.',
    arxivId: '2411.90005',
    on: ['arxiv'],
  },
  {
    title: 'Sparse $\\ell_1$ Recalibration & Focal Losses for Robust Classifiers',
    authors: ['Céline Dvořák', 'Matteo Ngata'],
    year: 2023,
    abstract: 'Focal losses and sparse recalibration layers produce calibrated classifiers that degrade gracefully under shift.',
    arxivId: '2308.90006',
    doi: '10.5555/rob.2023.19',
    on: ['arxiv', 's2', 'openalex'],
  },
  {
    title: 'A Survey of Uncertainty Estimation in Deep Learning Benchmarks',
    authors: ['Ngozi Farrant', 'Elias Sundqvist', 'Priya Wojcik', 'Tomasz Abara'],
    year: 2022,
    abstract: LONG_ABSTRACT,
    arxivId: '2207.90007',
    on: ['arxiv', 's2', 'openalex'],
  },
  {
    title: 'Domain Generalisation Benchmarks Overstate Progress',
    authors: ['Linnea Obi', 'Rafael Teodorescu'],
    year: 2023,
    abstract: 'Careful model selection erases most reported gains of domain generalisation methods on standard benchmarks.',
    arxivId: '2303.90008',
    on: ['arxiv', 's2', 'openalex'],
  },
  {
    title: 'Reliable Uncertainty for Medical Image Triage Under Scanner Shift',
    authors: ['Farah Lindgren', 'Chidi Moravec'],
    year: 2024,
    abstract: 'Scanner shift breaks the calibration of triage models; we propose a shift-aware recalibration with a small labelled set.',
    venue: 'Invented Journal of Medical Imaging',
    doi: '10.5555/ijmi.2024.301',
    on: ['openalex', 's2'],
  },
  {
    title: 'Importance Weighting for Deep Learning: When Does It Work?',
    authors: ['Soren Achebe', 'Marta Ishikawa'],
    year: 2021,
    abstract: 'Importance weighting has little effect on overparameterised networks unless combined with early stopping or regularisation.',
    arxivId: '2110.90009',
    on: ['arxiv', 's2', 'openalex'],
  },
];

export interface FakeLiteratureRequest {
  api: FakeApi;
  endpoint: 'search' | 'lookup' | 'other';
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  at: number;
}

export type Fault =
  | { status: number; headers?: Record<string, string>; body?: string; delayMs?: number }
  | { delayMs: number }
  /** Destroys the socket without a reply. */
  | { hangUp: true };

function s2IdOf(p: FakePaper): string {
  return createHash('sha1').update(`s2:${p.title}`).digest('hex');
}
function openAlexIdOf(p: FakePaper): string {
  return `W4${String(parseInt(createHash('sha1').update(`oa:${p.title}`).digest('hex').slice(0, 8), 16)).padStart(10, '0')}`;
}
export const fakeIds = { s2: s2IdOf, openAlex: openAlexIdOf };

function words(text: string): string[] {
  return text.toLowerCase().replace(/\$\\ell_1\$/g, 'l1').split(/[^a-z0-9]+/).filter(Boolean);
}

const STOP = new Set('a an and are as at be by for from how in into is it of on or the to under via with'.split(' '));

/** All the query's significant words appear in the paper's title or abstract (plurals tolerated). */
function matches(p: FakePaper, terms: string[]): boolean {
  const have = new Set(words(`${p.title} ${p.abstract} ${p.authors.join(' ')}`));
  return terms.every((t) => have.has(t) || have.has(`${t}s`) || (t.endsWith('s') && have.has(t.slice(0, -1))));
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Wraps a title and abstract the way arXiv's feed does (line breaks and indentation inside). */
function wrap(text: string): string {
  return text.replace(/(.{1,60})(\s+|$)/g, '$1\n  ').trim();
}

export class FakeLiteratureServers {
  readonly requests: FakeLiteratureRequest[] = [];
  readonly corpus: FakePaper[];
  private readonly servers = new Map<FakeApi, http.Server>();
  private readonly ports = new Map<FakeApi, number>();
  private readonly sockets = new Set<Socket>();
  private readonly faults = new Map<FakeApi, Fault[]>();
  private readonly slowMs = new Map<FakeApi, number>();
  /** When set, S2 refuses requests without this `x-api-key` (403). */
  s2RequiredKey?: string;

  constructor(corpus: FakePaper[] = FAKE_CORPUS) {
    this.corpus = corpus;
  }

  async start(): Promise<this> {
    for (const api of FAKE_APIS) await this.listen(api);
    return this;
  }

  private async listen(api: FakeApi): Promise<void> {
    const server = http.createServer((req, res) => void this.handle(api, req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.ports.get(api) ?? 0, '127.0.0.1', () => resolve());
    });
    this.ports.set(api, (server.address() as AddressInfo).port);
    this.servers.set(api, server);
  }

  /** Base URLs as the LAB_*_URL variables take them. */
  get urls(): { arxiv: string; semanticScholar: string; openAlex: string } {
    return {
      arxiv: `http://127.0.0.1:${this.ports.get('arxiv')}/api/query`,
      semanticScholar: `http://127.0.0.1:${this.ports.get('s2')}/graph/v1`,
      openAlex: `http://127.0.0.1:${this.ports.get('openalex')}`,
    };
  }

  /** The environment that points the literature backends here, with no rate-limit gaps. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      LAB_ARXIV_URL: this.urls.arxiv,
      LAB_SEMANTIC_SCHOLAR_URL: this.urls.semanticScholar,
      LAB_OPENALEX_URL: this.urls.openAlex,
      LAB_ARXIV_MIN_INTERVAL_MS: '0',
      LAB_SEMANTIC_SCHOLAR_MIN_INTERVAL_MS: '0',
      LAB_OPENALEX_MIN_INTERVAL_MS: '0',
      LAB_LITERATURE_TIMEOUT_MS: '5000',
      LAB_OPENALEX_MAILTO: 'lab-tests@example.org',
      ...extra,
    };
  }

  /** Queues faults for the next requests to `api`, one per request, before normal replies resume. */
  fail(api: FakeApi, ...faults: Fault[]): this {
    this.faults.set(api, [...(this.faults.get(api) ?? []), ...faults]);
    return this;
  }

  /** Delays every reply of `api` (0 to stop). */
  slow(api: FakeApi, ms: number): this {
    this.slowMs.set(api, ms);
    return this;
  }

  /** Stops `api` listening: requests get "connection refused" until `online`. */
  async offline(api: FakeApi): Promise<void> {
    const server = this.servers.get(api);
    if (!server) return;
    this.servers.delete(api);
    for (const s of this.sockets) if ((s.address() as AddressInfo).port === this.ports.get(api)) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    // Let clients see their kept-alive connections close before the next request.
    await new Promise((r) => setTimeout(r, 50));
  }

  async online(api: FakeApi): Promise<void> {
    if (!this.servers.has(api)) await this.listen(api);
  }

  reset(): void {
    this.requests.length = 0;
    this.faults.clear();
    this.slowMs.clear();
    this.s2RequiredKey = undefined;
  }

  count(api?: FakeApi, endpoint?: FakeLiteratureRequest['endpoint']): number {
    return this.requests.filter((r) => (!api || r.api === api) && (!endpoint || r.endpoint === endpoint)).length;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all([...this.servers.values()].map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.servers.clear();
  }

  private async handle(api: FakeApi, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const endpoint = this.endpointOf(api, url);
    this.requests.push({ api, endpoint, path: url.pathname, query: Object.fromEntries(url.searchParams), headers: req.headers, at: Date.now() });
    const fault = this.faults.get(api)?.shift();
    const delay = (fault && 'delayMs' in fault ? fault.delayMs : 0) || this.slowMs.get(api) || 0;
    if (delay) await new Promise((r) => setTimeout(r, delay));
    if (res.destroyed) return;
    if (fault && 'hangUp' in fault) {
      req.socket.destroy();
      return;
    }
    if (fault && 'status' in fault) {
      res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers });
      res.end(fault.body ?? this.errorBody(api, fault.status));
      return;
    }
    const reply = this.reply(api, endpoint, url, req);
    res.writeHead(reply.status, { 'content-type': reply.type });
    res.end(reply.body);
  }

  private endpointOf(api: FakeApi, url: URL): FakeLiteratureRequest['endpoint'] {
    if (api === 'arxiv') return url.searchParams.get('id_list') ? 'lookup' : 'search';
    if (api === 's2') return url.pathname.endsWith('/paper/search') ? 'search' : url.pathname.includes('/paper/') ? 'lookup' : 'other';
    return url.pathname === '/works' ? 'search' : url.pathname.startsWith('/works/') ? 'lookup' : 'other';
  }

  private errorBody(api: FakeApi, status: number): string {
    if (api === 's2' && status === 429) {
      return JSON.stringify({
        message: 'Too Many Requests. Please wait and try again or apply for a key for higher rate limits.',
        code: '429',
      });
    }
    if (api === 'openalex') return JSON.stringify({ error: status === 429 ? 'Rate limit exceeded' : `${status} error`, message: 'fake OpenAlex fault' });
    if (api === 'arxiv') return `Fake arXiv fault ${status}`;
    return JSON.stringify({ message: `Internal Server Error (${status})` });
  }

  private reply(api: FakeApi, endpoint: string, url: URL, req: http.IncomingMessage): { status: number; type: string; body: string } {
    if (api === 'arxiv') return this.arxiv(url);
    if (api === 's2') return this.s2(endpoint, url, req);
    return this.openAlex(endpoint, url);
  }

  // ---- arXiv -------------------------------------------------------------------------------

  private arxiv(url: URL): { status: number; type: string; body: string } {
    const p = url.searchParams;
    const start = Number(p.get('start') ?? 0);
    const max = Number(p.get('max_results') ?? 10);
    const papers = this.corpus.filter((x) => x.on.includes('arxiv'));
    const idList = p.get('id_list');
    let found: FakePaper[];
    if (idList) {
      const ids = idList.split(',').map((s) => s.trim());
      const bad = ids.find((id) => !/^(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?\/\d{7})(v\d+)?$/.test(id));
      if (bad) {
        const entry = `<entry><id>https://arxiv.org/api/errors#incorrect_id_format_for_${xml(bad)}</id><title>Error</title><summary>incorrect id format for ${xml(bad)}</summary><updated>2025-01-01T00:00:00Z</updated><link href="https://arxiv.org/api/errors#incorrect_id_format_for_${xml(bad)}" rel="alternate" type="text/html"/><author><name>arXiv api core</name></author></entry>`;
        return { status: 400, type: 'application/atom+xml', body: this.feed(url, 1, [entry]) };
      }
      found = ids.map((id) => papers.find((x) => x.arxivId === id.replace(/v\d+$/, ''))).filter((x): x is FakePaper => Boolean(x));
    } else {
      const q = p.get('search_query') ?? '';
      const terms: string[] = [];
      for (const part of q.split(/\s+AND\s+/)) {
        const m = /^(?:all|ti|abs|au):(?:"([^"]*)"|(\S+))$/.exec(part.trim());
        if (!m) {
          const entry = `<entry><id>https://arxiv.org/api/errors#malformed_query</id><title>Error</title><summary>malformed search_query: ${xml(part)}</summary></entry>`;
          return { status: 400, type: 'application/atom+xml', body: this.feed(url, 1, [entry]) };
        }
        terms.push(...words(m[1] ?? m[2]).filter((w) => !STOP.has(w)));
      }
      found = papers.filter((x) => matches(x, terms));
    }
    const page = found.slice(start, start + max);
    return { status: 200, type: 'application/atom+xml; charset=utf-8', body: this.feed(url, found.length, page.map((x) => this.arxivEntry(x))) };
  }

  private feed(url: URL, total: number, entries: string[]): string {
    const p = url.searchParams;
    const title = `arXiv Query: search_query=${p.get('search_query') ?? ''}&id_list=${p.get('id_list') ?? ''}&start=${p.get('start') ?? 0}&max_results=${p.get('max_results') ?? 10}`;
    return `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <id>https://arxiv.org/api/${createHash('sha1').update(url.search).digest('base64url').slice(0, 27)}</id>
  <title>${xml(title)}</title>
  <updated>2025-01-01T00:00:00Z</updated>
  <link href="https://arxiv.org/api/query${xml(url.search)}" type="application/atom+xml"/>
  <opensearch:itemsPerPage>${xml(p.get('max_results') ?? '10')}</opensearch:itemsPerPage>
  <opensearch:totalResults>${total}</opensearch:totalResults>
  <opensearch:startIndex>${xml(p.get('start') ?? '0')}</opensearch:startIndex>
${entries.join('\n')}
</feed>
`;
  }

  private arxivEntry(x: FakePaper): string {
    const v = `${x.arxivId}v2`;
    return `  <entry>
    <id>http://arxiv.org/abs/${v}</id>
    <title>${xml(wrap(x.title))}</title>
    <updated>${x.year}-06-01T12:00:00Z</updated>
    <link href="https://arxiv.org/abs/${v}" rel="alternate" type="text/html"/>
    <link href="https://arxiv.org/pdf/${v}" rel="related" type="application/pdf" title="pdf"/>
    <summary>  ${xml(wrap(x.abstract))}
  </summary>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
    <category term="stat.ML" scheme="http://arxiv.org/schemas/atom"/>
    <published>${x.year}-03-14T09:30:00Z</published>
    <arxiv:comment>14 pages, 5 figures</arxiv:comment>
    <arxiv:primary_category term="cs.LG"/>
${x.doi ? `    <arxiv:doi>${xml(x.doi)}</arxiv:doi>\n    <link title="doi" href="https://doi.org/${xml(x.doi)}" rel="related"/>\n` : ''}${x.venue ? `    <arxiv:journal_ref>${xml(x.venue)} (${x.year})</arxiv:journal_ref>\n` : ''}${x.authors.map((a) => `    <author>\n      <name>${xml(a)}</name>\n    </author>`).join('\n')}
  </entry>`;
  }

  // ---- Semantic Scholar --------------------------------------------------------------------

  private s2Paper(x: FakePaper, fields: string[]): Record<string, unknown> {
    const id = s2IdOf(x);
    const all: Record<string, unknown> = {
      paperId: id,
      externalIds: {
        ...(x.arxivId ? { ArXiv: x.arxivId } : {}),
        // S2 lists arXiv's DataCite DOI for preprints without a journal DOI.
        DOI: x.doi ?? (x.arxivId ? `10.48550/arXiv.${x.arxivId}` : undefined),
        CorpusId: parseInt(id.slice(0, 7), 16),
      },
      url: `https://www.semanticscholar.org/paper/${id}`,
      title: x.title,
      abstract: x.abstract,
      venue: x.venue ?? (x.arxivId ? 'arXiv.org' : ''),
      year: x.year,
      authors: x.authors.map((name, i) => ({ authorId: String(1000 + i), name })),
    };
    const out: Record<string, unknown> = { paperId: id };
    for (const f of fields) if (f in all) out[f] = all[f];
    return out;
  }

  private s2(endpoint: string, url: URL, req: http.IncomingMessage): { status: number; type: string; body: string } {
    const json = (status: number, body: unknown) => ({ status, type: 'application/json', body: JSON.stringify(body) });
    if (this.s2RequiredKey && req.headers['x-api-key'] !== this.s2RequiredKey) return json(403, { message: 'Forbidden' });
    const fields = (url.searchParams.get('fields') ?? 'title').split(',').map((f) => f.trim());
    const known = new Set(['paperId', 'externalIds', 'url', 'title', 'abstract', 'venue', 'year', 'authors']);
    const unknown = fields.filter((f) => !known.has(f));
    if (unknown.length) return json(400, { error: `Unrecognized or unsupported fields: [${unknown.join(', ')}]` });
    const papers = this.corpus.filter((x) => x.on.includes('s2'));
    if (endpoint === 'search') {
      const query = url.searchParams.get('query') ?? '';
      const limit = Number(url.searchParams.get('limit') ?? 100);
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const found = papers.filter((x) => matches(x, words(query).filter((w) => !STOP.has(w))));
      const page = found.slice(offset, offset + limit);
      return json(200, { total: found.length, offset, ...(offset + limit < found.length ? { next: offset + limit } : {}), data: page.map((x) => this.s2Paper(x, fields)) });
    }
    if (endpoint === 'lookup') {
      const raw = decodeURIComponent(url.pathname.slice(url.pathname.indexOf('/paper/') + '/paper/'.length));
      const m = /^(arxiv|doi|corpusid):(.+)$/i.exec(raw);
      const x = m
        ? papers.find((p) =>
            m[1].toLowerCase() === 'arxiv'
              ? p.arxivId === m[2]
              : m[1].toLowerCase() === 'doi'
                ? (p.doi ?? (p.arxivId ? `10.48550/arxiv.${p.arxivId}` : '')).toLowerCase() === m[2].toLowerCase()
                : false,
          )
        : papers.find((p) => s2IdOf(p) === raw);
      return x ? json(200, this.s2Paper(x, fields)) : json(404, { error: `Paper with id ${raw} not found` });
    }
    return json(404, { error: 'Not found' });
  }

  // ---- OpenAlex ----------------------------------------------------------------------------

  private work(x: FakePaper): Record<string, unknown> {
    const id = openAlexIdOf(x);
    const linked = x.arxivId && !x.openAlexUnlinked;
    const doi = x.doi ?? (linked ? `10.48550/arxiv.${x.arxivId}` : undefined);
    const inverted: Record<string, number[]> = {};
    x.abstract.split(/\s+/).forEach((w, i) => (inverted[w] ??= []).push(i));
    const title = x.openAlexTitle ?? x.title;
    const arxivLocation = linked
      ? { is_oa: true, landing_page_url: `https://arxiv.org/abs/${x.arxivId}`, pdf_url: `https://arxiv.org/pdf/${x.arxivId}`, source: { id: 'https://openalex.org/S4306400194', display_name: 'arXiv (Cornell University)', type: 'repository' } }
      : undefined;
    const journalLocation = x.doi
      ? { is_oa: false, landing_page_url: `https://doi.org/${x.doi}`, pdf_url: null, source: { id: 'https://openalex.org/S1', display_name: x.venue ?? 'Invented Venue', type: 'journal' } }
      : undefined;
    const primary = journalLocation ?? arxivLocation ?? { is_oa: false, landing_page_url: `https://example.org/papers/${id}`, pdf_url: null, source: null };
    return {
      id: `https://openalex.org/${id}`,
      doi: doi ? `https://doi.org/${doi}` : null,
      title,
      display_name: title,
      publication_year: x.year,
      publication_date: `${x.year}-03-14`,
      ids: { openalex: `https://openalex.org/${id}`, ...(doi ? { doi: `https://doi.org/${doi}` } : {}) },
      type: x.doi ? 'article' : 'preprint',
      authorships: x.authors.map((name, i) => ({
        author_position: i === 0 ? 'first' : i === x.authors.length - 1 ? 'last' : 'middle',
        author: { id: `https://openalex.org/A${5000000 + i}`, display_name: name, orcid: null },
        institutions: [],
        raw_author_name: name,
      })),
      primary_location: primary,
      locations: [primary, ...(arxivLocation && arxivLocation !== primary ? [arxivLocation] : [])],
      cited_by_count: 3,
      abstract_inverted_index: inverted,
    };
  }

  private select(work: Record<string, unknown>, select: string | null): Record<string, unknown> {
    if (!select) return work;
    return Object.fromEntries(select.split(',').map((f) => [f.trim(), work[f.trim()]]).filter(([, v]) => v !== undefined));
  }

  private openAlex(endpoint: string, url: URL): { status: number; type: string; body: string } {
    const json = (status: number, body: unknown) => ({ status, type: 'application/json', body: JSON.stringify(body) });
    const papers = this.corpus.filter((x) => x.on.includes('openalex'));
    const select = url.searchParams.get('select');
    if (endpoint === 'search') {
      const perPage = Number(url.searchParams.get('per-page') ?? url.searchParams.get('per_page') ?? 25);
      const found = papers.filter((x) => matches(x, words(url.searchParams.get('search') ?? '').filter((w) => !STOP.has(w))));
      return json(200, {
        meta: { count: found.length, db_response_time_ms: 12, page: 1, per_page: perPage, groups_count: null },
        results: found.slice(0, perPage).map((x) => this.select(this.work(x), select)),
        group_by: [],
      });
    }
    if (endpoint === 'lookup') {
      const key = decodeURIComponent(url.pathname.slice('/works/'.length));
      const doi = /^(?:doi:|https:\/\/doi\.org\/)(.+)$/i.exec(key)?.[1]?.toLowerCase();
      const x = papers.find((p) => {
        const w = this.work(p);
        return doi ? typeof w.doi === 'string' && w.doi.toLowerCase() === `https://doi.org/${doi}` : openAlexIdOf(p) === key.toUpperCase();
      });
      return x ? json(200, this.select(this.work(x), select)) : json(404, { error: 'Not Found', message: `Work ${key} not found` });
    }
    return json(404, { error: 'Not Found', message: 'unknown path' });
  }
}

/** A URL on 127.0.0.1 where nothing listens (connection refused), for a backend that is offline. */
export async function refusedUrl(path = ''): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}
