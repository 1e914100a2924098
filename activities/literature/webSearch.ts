/**
 * The model's own web search, as MLR-Bench's "web search" mode: an optional backend, off by default
 * (enabled only when `web_search` is listed in LAB_LITERATURE_BACKENDS), whose model comes from
 * LAB_WEB_SEARCH_MODEL:
 * - `openai:<model>`: the Responses API (`POST /v1/responses`) with the `{ type: 'web_search' }` tool;
 * - `anthropic:<model>`: the Messages API (`POST /v1/messages`) with the server tool
 *   `{ type: 'web_search_20250305', name: 'web_search', max_uses }`.
 * The model is asked for a JSON array of papers it found; each becomes a record whose id is its
 * arXiv id or DOI when it gave one, else `Web:<url>`. Nothing here can resolve an id: citations of
 * web-search records are checked by arXiv / Semantic Scholar / OpenAlex like any other, and a
 * `Web:` one ends flagged. Abstracts are absent (the model's summaries are not the papers').
 *
 * SDK retries are off (Temporal owns retries, as in the LLM gateway) and failures are classified
 * like the other backends': 429 (Retry-After) and 5xx are retried, 401/403 are not, a refused
 * connection means offline.
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { z } from 'zod';
import { retryAfterMs } from '../llm/errors.js';
import type { LiteratureBackend } from './backend.js';
import type { WebSearchSettings } from './config.js';
import { LiteratureError, networkError } from './errors.js';
import type { RequestContext } from './http.js';
import { arxivId, doiId, idFromUrl, type PaperId } from './ids.js';
import { sharedLimiter, type MinIntervalLimiter } from './rateLimiter.js';
import { BACKEND_LABELS, makeRecord, type PaperRecord } from './types.js';

const NAME = 'web_search' as const;

/** What the model is asked to answer, one element per paper; read leniently. */
const looseString = z
  .union([z.string(), z.number()])
  .nullish()
  .transform((v) => (v === null || v === undefined ? undefined : String(v).trim() || undefined));

export const webSearchPaperSchema = z.object({
  title: z.string().trim().min(1),
  authors: z
    .union([z.array(z.union([z.string(), z.object({ name: z.string() }).transform((a) => a.name)])), z.string()])
    .nullish()
    .transform((a) => (a === null || a === undefined ? [] : typeof a === 'string' ? a.split(/\s*(?:,|;|\band\b)\s*/) : a)),
  year: z
    .union([z.number(), z.string()])
    .nullish()
    .transform((y) => {
      const n = typeof y === 'string' ? Number(/\d{4}/.exec(y)?.[0]) : y;
      return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
    }),
  url: looseString,
  arxivId: looseString,
  doi: looseString,
});
export type WebSearchPaper = z.output<typeof webSearchPaperSchema>;

export function webSearchPrompt(query: string, limit: number): string {
  return [
    `Search the web for published research papers (journal, conference or arXiv) relevant to: "${query}".`,
    `Find up to ${limit} papers, most relevant first. Report only papers you actually found in search results, never from memory;`,
    'give the arXiv id (e.g. 2401.01234) and/or the DOI whenever the paper has one, and a URL of its page.',
    'Answer ONLY with a JSON array, no prose, each element:',
    '{"title": string, "authors": [string], "year": number, "url": string, "arxivId": string | null, "doi": string | null}',
  ].join('\n');
}

/** Candidate JSON texts in a model's answer: fenced blocks first, then the outermost `[ … ]`. */
function jsonCandidates(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/```(?:json)?\s*\n?([\s\S]*?)```/gi)) out.push(m[1].trim());
  const start = text.indexOf('[');
  const end = text.lastIndexOf(']');
  if (start >= 0 && end > start) out.push(text.slice(start, end + 1));
  out.push(text.trim());
  return out;
}

/**
 * Reads the model's answer: a JSON array (bare or fenced, or inside `{ "papers": [...] }`).
 * Elements that do not fit the schema are skipped; an answer with no array at all throws.
 */
export function parseWebSearchAnswer(text: string): WebSearchPaper[] {
  for (const candidate of jsonCandidates(text)) {
    let data: unknown;
    try {
      data = JSON.parse(candidate);
    } catch {
      continue;
    }
    const list = Array.isArray(data)
      ? data
      : Array.isArray((data as { papers?: unknown })?.papers)
        ? (data as { papers: unknown[] }).papers
        : undefined;
    if (!list) continue;
    return list.flatMap((item) => {
      const parsed = webSearchPaperSchema.safeParse(item);
      return parsed.success ? [parsed.data] : [];
    });
  }
  throw new LiteratureError(NAME, 'server', `the model did not answer a JSON array of papers: ${JSON.stringify(text.slice(0, 160))}`);
}

/** One paper the model reported, as a record: arXiv id / DOI when given (or in its URL), else `Web:<url>`. */
export function webSearchRecord(p: WebSearchPaper): PaperRecord | undefined {
  const fromUrl = p.url ? idFromUrl(p.url) : undefined;
  const arxiv: PaperId | undefined = (p.arxivId ? (arxivId(p.arxivId.replace(/^arxiv\s*:\s*/i, '')) ?? idFromUrl(p.arxivId)) : undefined) ?? (fromUrl?.kind === 'arxiv' ? fromUrl : undefined);
  const doi = p.doi ? doiId(p.doi) : fromUrl?.kind === 'doi' ? fromUrl : undefined;
  const url = p.url && /^https?:\/\//i.test(p.url) ? p.url : undefined;
  return makeRecord({
    source: NAME,
    title: p.title,
    authors: p.authors,
    year: p.year,
    arxivId: arxiv?.value ?? (doi?.kind === 'arxiv' ? doi.value : undefined),
    doi: doi?.kind === 'doi' ? doi.value : undefined,
    url,
    fallbackId: url ? `Web:${url}` : undefined,
  });
}

interface SdkError {
  status?: number;
  headers?: Headers | Record<string, string>;
  message?: string;
  name?: string;
  error?: { error?: { message?: string }; message?: string };
}

/** An SDK failure as a LiteratureError (same kinds as the HTTP backends'). */
export function classifyWebSearchError(err: unknown, settings: WebSearchSettings): LiteratureError {
  if (err instanceof LiteratureError) return err;
  const e = err as SdkError;
  const keyVariable = settings.provider === 'openai' ? 'OPENAI_API_KEY' : 'ANTHROPIC_API_KEY';
  const status = typeof e?.status === 'number' ? e.status : undefined;
  if (status === undefined) {
    if (/timeout/i.test(e?.name ?? '')) return new LiteratureError(NAME, 'timeout', `no answer from ${new URL(settings.baseUrl).origin} within ${settings.timeoutMs} ms`);
    return networkError(NAME, err, settings.baseUrl, settings.timeoutMs);
  }
  const detail = (e.error?.error?.message ?? e.error?.message ?? e.message ?? '').replace(/\s+/g, ' ').trim().slice(0, 200);
  const suffix = detail ? `: ${detail}` : '';
  if (status === 429) {
    const delay = retryAfterMs(e.headers);
    const after = delay !== undefined ? `, retry after ${Math.ceil(delay / 1000)}s` : '';
    return new LiteratureError(NAME, 'rate_limited', `rate limited (429)${after}${suffix}`, status, delay);
  }
  if (status === 401 || status === 403) return new LiteratureError(NAME, 'rejected', `refused the request (${status})${suffix}; check ${keyVariable}`, status);
  if (status === 408 || status >= 500) return new LiteratureError(NAME, 'server', `server error ${status}${suffix}`, status);
  return new LiteratureError(NAME, 'rejected', `request rejected (${status})${suffix} [${settings.provider}:${settings.model}]`, status);
}

/** The text of an OpenAI Responses reply: the `output_text` parts of its message items. */
function openAiText(response: { output?: Array<{ type?: string; content?: Array<{ type?: string; text?: string }> }> }): string {
  return (response.output ?? [])
    .filter((item) => item?.type === 'message')
    .flatMap((item) => item.content ?? [])
    .filter((c) => c?.type === 'output_text' && typeof c.text === 'string')
    .map((c) => c.text)
    .join('');
}

/** The text of an Anthropic reply: its text blocks after the last search result (the final answer). */
function anthropicText(content: Array<{ type?: string; text?: string }>): string {
  const lastResult = content.map((b) => b?.type).lastIndexOf('web_search_tool_result');
  return content
    .slice(lastResult + 1)
    .filter((b) => b?.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text)
    .join('');
}

export class WebSearchBackend implements LiteratureBackend {
  readonly name = NAME;
  readonly limiter: MinIntervalLimiter;
  private readonly openai?: OpenAI;
  private readonly anthropic?: Anthropic;

  constructor(private readonly settings: WebSearchSettings) {
    this.limiter = sharedLimiter(NAME, settings.minIntervalMs);
    // maxRetries 0: Temporal owns retries (429 after its Retry-After through nextRetryDelay).
    const common = { apiKey: settings.apiKey, baseURL: settings.baseUrl, maxRetries: 0, timeout: settings.timeoutMs };
    if (settings.provider === 'openai') this.openai = new OpenAI(common);
    else this.anthropic = new Anthropic(common);
  }

  describe(): string {
    return `${BACKEND_LABELS.web_search} (${this.settings.provider}:${this.settings.model} at ${this.settings.baseUrl})`;
  }

  /** One limited, counted, classified SDK call. */
  private call<T>(work: (signal?: AbortSignal) => Promise<T>, ctx: RequestContext = {}): Promise<T> {
    return this.limiter.run(async () => {
      ctx.onRequest?.();
      try {
        return await work(ctx.signal);
      } catch (err) {
        if (ctx.signal?.aborted) throw ctx.signal.reason ?? err;
        throw classifyWebSearchError(err, this.settings);
      }
    }, ctx.signal);
  }

  async search(query: string, limit: number, ctx?: RequestContext): Promise<PaperRecord[]> {
    const prompt = webSearchPrompt(query, limit);
    const { model, maxUses } = this.settings;
    const text = await this.call(async (signal) => {
      if (this.openai) {
        const response = await this.openai.responses.create({ model, tools: [{ type: 'web_search' }], input: prompt }, { signal });
        return openAiText(response as Parameters<typeof openAiText>[0]);
      }
      const message = await this.anthropic!.messages.create(
        {
          model,
          max_tokens: 4096,
          tools: [{ type: 'web_search_20250305', name: 'web_search', max_uses: maxUses }],
          messages: [{ role: 'user', content: prompt }],
        },
        { signal },
      );
      return anthropicText(message.content as Array<{ type?: string; text?: string }>);
    }, ctx);
    const seen = new Set<string>();
    return parseWebSearchAnswer(text)
      .map(webSearchRecord)
      .filter((r): r is PaperRecord => {
        if (!r || seen.has(r.id)) return false;
        seen.add(r.id);
        return true;
      })
      .slice(0, limit);
  }

  canResolve(): boolean {
    return false;
  }

  authoritativeFor(): boolean {
    return false;
  }

  /** Not supported: ids are resolved by arXiv, Semantic Scholar and OpenAlex. */
  async resolve(): Promise<PaperRecord | null> {
    return null;
  }

  /** A cheap models list (no search, no tokens): the key and the endpoint work. */
  async ping(ctx?: RequestContext): Promise<void> {
    await this.call(async (signal) => {
      if (this.openai) await this.openai.models.list({ signal });
      else await this.anthropic!.models.list({ limit: 1 }, { signal });
    }, ctx);
  }
}
