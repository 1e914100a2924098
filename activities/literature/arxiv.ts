/**
 * arXiv's API: an Atom feed from `GET /api/query?search_query=…&start=&max_results=` (search) and
 * `?id_list=<id>` (look-up). Read with fast-xml-parser. arXiv asks for one request every 3 s.
 */
import { XMLParser } from 'fast-xml-parser';
import type { LiteratureBackend } from './backend.js';
import type { BackendSettings } from './config.js';
import { LiteratureError } from './errors.js';
import { HttpClient, type RequestContext } from './http.js';
import { idFromUrl, doiId, type PaperId } from './ids.js';
import { BACKEND_LABELS, makeRecord, type PaperRecord } from './types.js';

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // `arxiv:doi` → `doi`, `opensearch:totalResults` → `totalResults`.
  removeNSPrefix: true,
  // Keep ids as text: `2401.01230` is not the number 2401.0123.
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  isArray: (name) => ['entry', 'author', 'link', 'category'].includes(name),
});

type XmlValue = string | { '#text'?: string; [attr: string]: unknown } | undefined;

function text(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && '#text' in v) return String((v as { '#text'?: unknown })['#text'] ?? '');
  return undefined;
}

interface AtomEntry {
  id?: XmlValue;
  title?: XmlValue;
  summary?: XmlValue;
  published?: XmlValue;
  author?: Array<{ name?: XmlValue }>;
  doi?: XmlValue;
  journal_ref?: XmlValue;
  link?: Array<{ '@_href'?: string; '@_rel'?: string; '@_title'?: string }>;
}

export interface ArxivFeed {
  records: PaperRecord[];
  /** `opensearch:totalResults`, when given. */
  total?: number;
  /** arXiv reports a bad query or id as an entry whose id is under `/api/errors`. */
  errors: string[];
}

/** Parses an arXiv API Atom feed into records (entries without a title, as for unknown ids, are skipped). */
export function parseArxivFeed(xml: string): ArxivFeed {
  let doc: { feed?: { entry?: AtomEntry[]; totalResults?: XmlValue } };
  try {
    doc = parser.parse(xml);
  } catch (err) {
    throw new Error(`not an Atom feed: ${(err as Error).message}`);
  }
  if (!doc?.feed) throw new Error('not an Atom feed: no <feed> element');
  const records: PaperRecord[] = [];
  const errors: string[] = [];
  for (const entry of doc.feed.entry ?? []) {
    const idUrl = text(entry.id) ?? '';
    if (idUrl.includes('/api/errors')) {
      errors.push(text(entry.summary) ?? text(entry.title) ?? idUrl);
      continue;
    }
    const id = idFromUrl(idUrl);
    if (!id || id.kind !== 'arxiv') continue;
    const doi = text(entry.doi) ? doiId(text(entry.doi)!) : undefined;
    const published = text(entry.published);
    const record = makeRecord({
      source: 'arxiv',
      arxivId: id.value,
      doi: doi?.kind === 'doi' ? doi.value : undefined,
      title: text(entry.title),
      authors: (entry.author ?? []).map((a) => text(a.name)),
      year: published ? Number(published.slice(0, 4)) || undefined : undefined,
      abstract: text(entry.summary),
      url: `https://arxiv.org/abs/${id.value}`,
      venue: text(entry.journal_ref),
    });
    if (record) records.push(record);
  }
  const total = Number(text(doc.feed.totalResults));
  return { records, total: Number.isFinite(total) ? total : undefined, errors };
}

const STOP_WORDS = new Set(
  'a an and are as at be by for from how in into is it its of on or that the their this to using via what when which with without'.split(' '),
);

/**
 * arXiv's `search_query` for free text: every significant word must appear (`all:w1 AND all:w2`),
 * quoted phrases stay phrases, at most 8 terms. A query already in arXiv's syntax (`ti:`, `AND`) is sent as written.
 */
export function arxivSearchQuery(query: string): string {
  if (/\b(?:ti|au|abs|co|jr|cat|rn|id|all):/.test(query) || /\b(?:AND|OR|ANDNOT)\b/.test(query)) return query.trim();
  const phrases = [...query.matchAll(/"([^"]+)"/g)].map((m) => m[1].replace(/\s+/g, ' ').trim()).filter(Boolean);
  const words = query
    .replace(/"[^"]*"/g, ' ')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 1 && !STOP_WORDS.has(w));
  const terms = [...new Set([...phrases.map((p) => `all:"${p}"`), ...words.map((w) => `all:${w}`)])].slice(0, 8);
  return terms.join(' AND ') || `all:${query.trim()}`;
}

export class ArxivBackend implements LiteratureBackend {
  readonly name = 'arxiv' as const;
  private readonly http: HttpClient;

  constructor(private readonly settings: BackendSettings) {
    this.http = new HttpClient(settings);
  }

  describe(): string {
    return `${BACKEND_LABELS.arxiv} (${this.settings.baseUrl})`;
  }

  private feed(status: number, body: string): ArxivFeed {
    try {
      return parseArxivFeed(body);
    } catch (err) {
      throw new LiteratureError('arxiv', status >= 400 ? 'rejected' : 'server', `unreadable reply (${status}): ${(err as Error).message}`, status);
    }
  }

  async search(query: string, limit: number, ctx?: RequestContext): Promise<PaperRecord[]> {
    const params = new URLSearchParams({
      search_query: arxivSearchQuery(query),
      start: '0',
      max_results: String(limit),
      sortBy: 'relevance',
      sortOrder: 'descending',
    });
    const reply = await this.http.get(`${this.settings.baseUrl}?${params}`, ctx, []);
    const feed = this.feed(reply.status, reply.text);
    if (feed.errors.length) throw new LiteratureError('arxiv', 'rejected', `query rejected: ${feed.errors.join('; ')}`);
    return feed.records.slice(0, limit);
  }

  canResolve(id: PaperId): boolean {
    return id.kind === 'arxiv';
  }

  authoritativeFor(id: PaperId): boolean {
    return id.kind === 'arxiv';
  }

  async resolve(id: PaperId, ctx?: RequestContext): Promise<PaperRecord | null> {
    if (id.kind !== 'arxiv') return null;
    const params = new URLSearchParams({ id_list: id.value, start: '0', max_results: '1' });
    // arXiv answers an id it cannot parse with 400 and an error entry: no such paper.
    const reply = await this.http.get(`${this.settings.baseUrl}?${params}`, ctx, [400, 404]);
    if (reply.status === 404) return null;
    const feed = this.feed(reply.status, reply.text);
    if (reply.status === 400 || feed.errors.length) {
      if (feed.errors.some((e) => /\bid\b/i.test(e))) return null;
      throw new LiteratureError('arxiv', 'rejected', `request rejected (${reply.status}): ${feed.errors.join('; ') || 'no reason given'}`, reply.status);
    }
    return feed.records.find((r) => r.arxivId === id.value) ?? null;
  }

  async ping(ctx?: RequestContext): Promise<void> {
    const params = new URLSearchParams({ search_query: 'all:learning', start: '0', max_results: '1' });
    const reply = await this.http.get(`${this.settings.baseUrl}?${params}`, ctx, []);
    this.feed(reply.status, reply.text);
  }
}
