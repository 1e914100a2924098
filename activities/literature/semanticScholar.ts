/**
 * Semantic Scholar's Academic Graph API: `GET /graph/v1/paper/search?query=&limit=&fields=` and
 * `GET /graph/v1/paper/{id}?fields=` with ids `ARXIV:2401.01234`, `DOI:10.…` or a paperId.
 * An API key (`SEMANTIC_SCHOLAR_API_KEY`, sent as `x-api-key`) is optional.
 */
import type { LiteratureBackend } from './backend.js';
import type { BackendSettings } from './config.js';
import { LiteratureError } from './errors.js';
import { encodePathId, HttpClient, type RequestContext } from './http.js';
import { arxivId, doiId, type PaperId } from './ids.js';
import { BACKEND_LABELS, makeRecord, type PaperRecord } from './types.js';

export const S2_FIELDS = 'paperId,externalIds,title,abstract,year,venue,authors,url';

export interface S2Paper {
  paperId?: string | null;
  externalIds?: Record<string, string | number | null> | null;
  title?: string | null;
  abstract?: string | null;
  year?: number | null;
  venue?: string | null;
  authors?: Array<{ authorId?: string | null; name?: string | null }> | null;
  url?: string | null;
}

/** One S2 paper object as a record (its DOI of an arXiv preprint becomes the arXiv id). */
export function s2Record(p: S2Paper): PaperRecord | undefined {
  if (!p?.paperId) return undefined;
  const ext = p.externalIds ?? {};
  const arxiv = ext.ArXiv ? arxivId(String(ext.ArXiv)) : undefined;
  const doi = ext.DOI ? doiId(String(ext.DOI)) : undefined;
  return makeRecord({
    source: 'semantic_scholar',
    s2Id: p.paperId,
    arxivId: arxiv?.value ?? (doi?.kind === 'arxiv' ? doi.value : undefined),
    doi: doi?.kind === 'doi' ? doi.value : undefined,
    title: p.title,
    authors: (p.authors ?? []).map((a) => a?.name),
    year: p.year,
    abstract: p.abstract,
    venue: p.venue,
    url: p.url || `https://www.semanticscholar.org/paper/${p.paperId}`,
  });
}

function parseJson<T>(status: number, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new LiteratureError('semantic_scholar', 'server', `unreadable reply (${status}): ${text.slice(0, 120)}`, status);
  }
}

export class SemanticScholarBackend implements LiteratureBackend {
  readonly name = 'semantic_scholar' as const;
  private readonly http: HttpClient;

  constructor(private readonly settings: BackendSettings & { apiKey?: string }) {
    this.http = new HttpClient(settings, settings.apiKey ? { 'x-api-key': settings.apiKey } : {}, () => ({
      kind: 'rejected',
      hint: settings.apiKey ? 'check SEMANTIC_SCHOLAR_API_KEY' : 'the API may need a key: set SEMANTIC_SCHOLAR_API_KEY',
    }));
  }

  describe(): string {
    return `${BACKEND_LABELS.semantic_scholar} (${this.settings.baseUrl})`;
  }

  async search(query: string, limit: number, ctx?: RequestContext): Promise<PaperRecord[]> {
    // S2's search finds nothing for hyphenated words; it documents replacing hyphens with spaces.
    const params = new URLSearchParams({ query: query.replace(/-/g, ' ').replace(/\s+/g, ' ').trim(), limit: String(limit), fields: S2_FIELDS });
    const reply = await this.http.get(`${this.settings.baseUrl}/paper/search?${params}`, ctx, []);
    const body = parseJson<{ data?: S2Paper[]; total?: number }>(reply.status, reply.text);
    return (body.data ?? []).map(s2Record).filter((r): r is PaperRecord => Boolean(r)).slice(0, limit);
  }

  canResolve(id: PaperId): boolean {
    return id.kind === 'arxiv' || id.kind === 'doi' || id.kind === 's2';
  }

  authoritativeFor(id: PaperId): boolean {
    return id.kind === 's2';
  }

  async resolve(id: PaperId, ctx?: RequestContext): Promise<PaperRecord | null> {
    const s2 = id.kind === 'arxiv' ? `ARXIV:${id.value}` : id.kind === 'doi' ? `DOI:${id.value}` : id.kind === 's2' ? id.value : undefined;
    if (!s2) return null;
    const reply = await this.http.get(`${this.settings.baseUrl}/paper/${encodePathId(s2)}?fields=${S2_FIELDS}`, ctx);
    if (reply.status === 404) return null;
    return s2Record(parseJson<S2Paper>(reply.status, reply.text)) ?? null;
  }

  async ping(ctx?: RequestContext): Promise<void> {
    const reply = await this.http.get(`${this.settings.baseUrl}/paper/search?query=learning&limit=1&fields=title`, ctx, []);
    parseJson(reply.status, reply.text);
  }
}
