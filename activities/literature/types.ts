/**
 * What the literature activities exchange: paper records (small: they travel through workflow
 * history and into prompts), the search activity's input and result, the backend interface.
 * Pure: no I/O, so workflow code may import it.
 */
import { z } from 'zod';
import { canonicalRecordId } from './ids.js';

export const BACKEND_NAMES = ['arxiv', 'semantic_scholar', 'openalex', 'web_search'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** For messages: `arXiv`, `Semantic Scholar`, `OpenAlex`. */
export const BACKEND_LABELS: Record<BackendName, string> = {
  arxiv: 'arXiv',
  semantic_scholar: 'Semantic Scholar',
  openalex: 'OpenAlex',
  web_search: 'Web search',
};

/** Caps that keep one record around a kilobyte or two. */
export const RECORD_LIMITS = { title: 500, abstract: 2000, authors: 12, author: 120, venue: 200 } as const;

export const paperRecordSchema = z.object({
  /** The backend the record came from (after deduplication: the first that returned it). */
  source: z.enum(BACKEND_NAMES),
  /**
   * Canonical: `arXiv:2401.01234` | `DOI:10.xxx/yyy` (lowercase) | `S2:<paperId>` | `OpenAlex:W…`, in that preference;
   * `Web:<url>` for a web-search record with none of them (no backend can resolve it: the citation check flags it).
   */
  id: z.string().min(1),
  title: z.string().min(1).max(RECORD_LIMITS.title),
  /** At most the first 12 authors. */
  authors: z.array(z.string().max(RECORD_LIMITS.author)).max(RECORD_LIMITS.authors),
  year: z.number().int().optional(),
  /** At most 2000 characters (cut at a word, ending with `…`). */
  abstract: z.string().max(RECORD_LIMITS.abstract).optional(),
  /** A page a reader can open: the arXiv abstract page, the DOI link, the S2 or OpenAlex page. */
  url: z.string().min(1),
  arxivId: z.string().optional(),
  /** Lowercase, without `https://doi.org/`. */
  doi: z.string().optional(),
  s2Id: z.string().optional(),
  openAlexId: z.string().optional(),
  venue: z.string().max(RECORD_LIMITS.venue).optional(),
});
export type PaperRecord = z.infer<typeof paperRecordSchema>;

function clip(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max - 1);
  const space = cut.lastIndexOf(' ');
  return `${space > max * 0.8 ? cut.slice(0, space) : cut}…`;
}

/** Collapses the whitespace that XML and JSON sources leave in titles and abstracts. */
export function cleanText(text: string | null | undefined): string | undefined {
  const t = (text ?? '').replace(/\s+/g, ' ').trim();
  return t || undefined;
}

export interface RawRecord {
  source: BackendName;
  title?: string | null;
  authors?: Array<string | null | undefined>;
  year?: number | null;
  abstract?: string | null;
  url?: string;
  arxivId?: string;
  doi?: string;
  s2Id?: string;
  openAlexId?: string;
  venue?: string | null;
  /** The id when the record has no arXiv id, DOI, S2 or OpenAlex id (web search: `Web:<url>`). */
  fallbackId?: string;
}

/** Builds a capped, canonical record; undefined when the source gave no title or no id. */
export function makeRecord(raw: RawRecord): PaperRecord | undefined {
  const title = cleanText(raw.title);
  const id = canonicalRecordId(raw) ?? raw.fallbackId;
  if (!title || !id) return undefined;
  const authors = (raw.authors ?? [])
    .map((a) => cleanText(a))
    .filter((a): a is string => Boolean(a))
    .slice(0, RECORD_LIMITS.authors)
    .map((a) => clip(a, RECORD_LIMITS.author));
  const abstract = cleanText(raw.abstract);
  const venue = cleanText(raw.venue);
  const url =
    raw.url ??
    (raw.arxivId
      ? `https://arxiv.org/abs/${raw.arxivId}`
      : raw.doi
        ? `https://doi.org/${raw.doi}`
        : raw.s2Id
          ? `https://www.semanticscholar.org/paper/${raw.s2Id}`
          : `https://openalex.org/${raw.openAlexId}`);
  const record: PaperRecord = { source: raw.source, id, title: clip(title, RECORD_LIMITS.title), authors, url };
  if (typeof raw.year === 'number' && Number.isInteger(raw.year)) record.year = raw.year;
  if (abstract) record.abstract = clip(abstract, RECORD_LIMITS.abstract);
  if (raw.arxivId) record.arxivId = raw.arxivId;
  if (raw.doi) record.doi = raw.doi;
  if (raw.s2Id) record.s2Id = raw.s2Id;
  if (raw.openAlexId) record.openAlexId = raw.openAlexId;
  if (venue) record.venue = clip(venue, RECORD_LIMITS.venue);
  return record;
}

export const MAX_QUERIES = 20;
export const MAX_PER_QUERY = 50;

export const searchLiteratureInputSchema = z.object({
  queries: z.array(z.string().trim().min(1).max(300)).min(1).max(MAX_QUERIES),
  perQuery: z.number().int().min(1).max(MAX_PER_QUERY),
  /**
   * Attempts after which a backend that still answers 429 / 5xx / times out is reported `ok: false`
   * instead of failing the activity for Temporal to retry (default 4). The activity's retry policy
   * must allow at least this many attempts.
   */
  giveUpAfterAttempts: z.number().int().min(1).max(100).optional(),
});
export type SearchLiteratureInput = z.input<typeof searchLiteratureInputSchema>;

export const backendOutcomeSchema = z.object({
  name: z.enum(BACKEND_NAMES),
  /** Every query answered (from the network or the cache). */
  ok: z.boolean(),
  /** Why not, in words a person can act on. */
  error: z.string().optional(),
  /** HTTP requests made by this attempt (failed ones included). */
  requests: z.number().int().nonnegative(),
  /** Queries answered from the disk cache. */
  cached: z.number().int().nonnegative(),
});
export type BackendOutcome = z.infer<typeof backendOutcomeSchema>;

export const literatureSearchResultSchema = z.object({
  /** Deduplicated across backends by DOI, arXiv id and normalised title; best-ranked first. */
  records: z.array(paperRecordSchema),
  backends: z.array(backendOutcomeSchema),
});
export type LiteratureSearchResult = z.infer<typeof literatureSearchResultSchema>;
