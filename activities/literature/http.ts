/**
 * The one way the backends make a request: through the backend's shared rate limiter, with a
 * timeout, counted, and with every failure classified as a LiteratureError.
 */
import { retryAfterMs } from '../llm/errors.js';
import type { BackendSettings } from './config.js';
import { LiteratureError, networkError } from './errors.js';
import { sharedLimiter, type MinIntervalLimiter } from './rateLimiter.js';
import { BACKEND_LABELS } from './types.js';

/** Per-call context: cancellation (the activity's) and a request counter. */
export interface RequestContext {
  signal?: AbortSignal;
  /** Called once per HTTP request actually sent. */
  onRequest?: () => void;
}

export interface HttpReply {
  status: number;
  text: string;
}

export const USER_AGENT = 'durable-lab/0.1 (research agent; literature search)';

function bodyMessage(text: string): string {
  try {
    const json = JSON.parse(text) as { message?: unknown; error?: unknown };
    const parts = [json.error, json.message].filter((p) => typeof p === 'string' && p);
    if (parts.length) return parts.join(': ').slice(0, 200);
  } catch {
    /* not JSON */
  }
  const summary = /<summary[^>]*>([\s\S]*?)<\/summary>/.exec(text)?.[1];
  return (summary ?? text).replace(/\s+/g, ' ').trim().slice(0, 200);
}

export class HttpClient {
  readonly limiter: MinIntervalLimiter;

  constructor(
    readonly settings: BackendSettings,
    private readonly headers: Record<string, string> = {},
    /** What a 401/403 means for this API: OpenAlex says "slow down" with 403; S2 means its key. */
    private readonly onAuthError?: (status: number) => { kind: LiteratureError['kind']; hint: string },
  ) {
    this.limiter = sharedLimiter(settings.name, settings.minIntervalMs);
  }

  /**
   * GETs `url`. Returns 2xx replies, and 404 (or whatever `notFound` lists) as `null`-able replies
   * for the caller to read as "no such paper"; throws a LiteratureError for everything else.
   */
  async get(url: string, ctx: RequestContext = {}, notFound: number[] = [404]): Promise<HttpReply> {
    const { name, timeoutMs } = this.settings;
    const label = BACKEND_LABELS[name];
    return this.limiter.run(async () => {
      ctx.onRequest?.();
      const signal = ctx.signal ? AbortSignal.any([AbortSignal.timeout(timeoutMs), ctx.signal]) : AbortSignal.timeout(timeoutMs);
      let res: Response;
      let text: string;
      try {
        res = await fetch(url, { headers: { 'user-agent': USER_AGENT, ...this.headers }, signal });
        text = await res.text();
      } catch (err) {
        if (ctx.signal?.aborted) throw ctx.signal.reason ?? err;
        throw networkError(name, err, url, timeoutMs);
      }
      const status = res.status;
      if ((status >= 200 && status < 300) || notFound.includes(status)) return { status, text };
      const detail = bodyMessage(text);
      if (status === 429) {
        const delay = retryAfterMs(res.headers);
        const after = delay !== undefined ? `, retry after ${Math.ceil(delay / 1000)}s` : '';
        throw new LiteratureError(name, 'rate_limited', `rate limited (429)${after}${detail ? `: ${detail}` : ''}`, status, delay);
      }
      if (status === 401 || status === 403) {
        const { kind, hint } = this.onAuthError?.(status) ?? { kind: 'rejected' as const, hint: '' };
        const delay = kind === 'rate_limited' ? retryAfterMs(res.headers) : undefined;
        throw new LiteratureError(name, kind, `refused the request (${status})${detail ? `: ${detail}` : ''}${hint ? `; ${hint}` : ''}`, status, delay);
      }
      if (status === 408 || status >= 500) throw new LiteratureError(name, 'server', `server error ${status}${detail ? `: ${detail}` : ''}`, status);
      throw new LiteratureError(name, 'rejected', `request rejected (${status})${detail ? `: ${detail}` : ''} [${label} ${new URL(url).pathname}]`, status);
    }, ctx.signal);
  }
}

/** Percent-encodes a path segment but keeps `/` and `:` (DOIs and prefixed ids go in paths as written). */
export function encodePathId(id: string): string {
  return encodeURIComponent(id).replace(/%2F/gi, '/').replace(/%3A/gi, ':');
}
