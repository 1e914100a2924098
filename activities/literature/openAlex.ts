/**
 * OpenAlex: `GET /works?search=&per-page=` and `GET /works/doi:<doi>` (or `/works/W…`). Asks in
 * the polite pool with `mailto=` (`LAB_OPENALEX_MAILTO`) and sends `api_key=` when
 * `OPENALEX_API_KEY` is set (OpenAlex requires one for more than a few searches a day since 2026).
 * Abstracts come as an inverted index (word → positions) and are rebuilt here.
 */
import type { LiteratureBackend } from './backend.js';
import type { BackendSettings } from './config.js';
import { LiteratureError } from './errors.js';
import { encodePathId, HttpClient, type RequestContext } from './http.js';
import { arxivDoi, doiId, idFromUrl, openAlexId, type PaperId } from './ids.js';
import { BACKEND_LABELS, makeRecord, type PaperRecord } from './types.js';

export const OPENALEX_SELECT = 'id,doi,title,display_name,publication_year,authorships,abstract_inverted_index,primary_location,locations';

interface OpenAlexLocation {
  landing_page_url?: string | null;
  source?: { display_name?: string | null } | null;
}

export interface OpenAlexWork {
  id?: string | null;
  doi?: string | null;
  title?: string | null;
  display_name?: string | null;
  publication_year?: number | null;
  authorships?: Array<{ author?: { display_name?: string | null } | null }> | null;
  abstract_inverted_index?: Record<string, number[]> | null;
  primary_location?: OpenAlexLocation | null;
  locations?: OpenAlexLocation[] | null;
}

/** Rebuilds the text of an `abstract_inverted_index` (word → positions). */
export function abstractFromInvertedIndex(index: Record<string, number[]> | null | undefined): string | undefined {
  if (!index) return undefined;
  const words: string[] = [];
  for (const [word, positions] of Object.entries(index)) for (const p of positions ?? []) if (Number.isInteger(p) && p >= 0 && p < 100_000) words[p] = word;
  const text = words.filter((w) => w !== undefined).join(' ');
  return text || undefined;
}

/** One OpenAlex work as a record; an arXiv landing page or arXiv DataCite DOI gives the arXiv id. */
export function openAlexRecord(w: OpenAlexWork): PaperRecord | undefined {
  const oa = w?.id ? openAlexId(w.id) : undefined;
  if (!oa) return undefined;
  const doi = w.doi ? doiId(w.doi) : undefined;
  const locations = [w.primary_location, ...(w.locations ?? [])].filter((l): l is OpenAlexLocation => Boolean(l));
  const arxivFromLocation = locations.map((l) => (l.landing_page_url ? idFromUrl(l.landing_page_url) : undefined)).find((id) => id?.kind === 'arxiv');
  const arxiv = doi?.kind === 'arxiv' ? doi : arxivFromLocation;
  const venue = w.primary_location?.source?.display_name;
  return makeRecord({
    source: 'openalex',
    openAlexId: oa.value,
    arxivId: arxiv?.value,
    doi: doi?.kind === 'doi' ? doi.value : undefined,
    title: w.title ?? w.display_name,
    authors: (w.authorships ?? []).map((a) => a?.author?.display_name),
    year: w.publication_year,
    abstract: abstractFromInvertedIndex(w.abstract_inverted_index),
    venue: venue && !/^arxiv/i.test(venue) ? venue : undefined,
    url: doi?.kind === 'doi' ? `https://doi.org/${doi.value}` : arxiv ? `https://arxiv.org/abs/${arxiv.value}` : `https://openalex.org/${oa.value}`,
  });
}

function parseJson<T>(status: number, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new LiteratureError('openalex', 'server', `unreadable reply (${status}): ${text.slice(0, 120)}`, status);
  }
}

export class OpenAlexBackend implements LiteratureBackend {
  readonly name = 'openalex' as const;
  private readonly http: HttpClient;

  constructor(private readonly settings: BackendSettings & { mailto?: string; apiKey?: string }) {
    // OpenAlex answers 403 when a client goes too fast (429 when a day's quota is spent).
    this.http = new HttpClient(settings, {}, () => ({
      kind: 'rate_limited',
      hint: settings.apiKey ? 'slow down, or check OPENALEX_API_KEY' : 'slow down, or set OPENALEX_API_KEY',
    }));
  }

  describe(): string {
    return `${BACKEND_LABELS.openalex} (${this.settings.baseUrl})`;
  }

  /** `mailto` (polite pool) and `api_key` on every request. */
  private params(extra: Record<string, string>): URLSearchParams {
    const p = new URLSearchParams(extra);
    if (this.settings.mailto) p.set('mailto', this.settings.mailto);
    if (this.settings.apiKey) p.set('api_key', this.settings.apiKey);
    return p;
  }

  async search(query: string, limit: number, ctx?: RequestContext): Promise<PaperRecord[]> {
    const params = this.params({ search: query.replace(/\s+/g, ' ').trim(), 'per-page': String(limit), select: OPENALEX_SELECT });
    const reply = await this.http.get(`${this.settings.baseUrl}/works?${params}`, ctx, []);
    const body = parseJson<{ results?: OpenAlexWork[] }>(reply.status, reply.text);
    return (body.results ?? []).map(openAlexRecord).filter((r): r is PaperRecord => Boolean(r)).slice(0, limit);
  }

  canResolve(id: PaperId): boolean {
    return id.kind === 'doi' || id.kind === 'openalex' || id.kind === 'arxiv';
  }

  authoritativeFor(id: PaperId): boolean {
    return id.kind === 'openalex';
  }

  async resolve(id: PaperId, ctx?: RequestContext): Promise<PaperRecord | null> {
    const key = id.kind === 'openalex' ? id.value : id.kind === 'doi' ? `doi:${id.value}` : id.kind === 'arxiv' ? `doi:${arxivDoi(id.value)}` : undefined;
    if (!key) return null;
    const reply = await this.http.get(`${this.settings.baseUrl}/works/${encodePathId(key)}?${this.params({ select: OPENALEX_SELECT })}`, ctx);
    if (reply.status === 404) return null;
    return openAlexRecord(parseJson<OpenAlexWork>(reply.status, reply.text)) ?? null;
  }

  async ping(ctx?: RequestContext): Promise<void> {
    // A singleton look-up: free in OpenAlex's pricing, where a search costs credits.
    const reply = await this.http.get(`${this.settings.baseUrl}/works/W2741809807?${this.params({ select: 'id' })}`, ctx);
    parseJson(reply.status, reply.text);
  }
}
