/**
 * Search API failures and how Temporal treats them, as the LLM gateway does for providers:
 * 429 (and OpenAlex's 403 "slow down") wait for Retry-After through `nextRetryDelay`; 5xx and
 * timeouts are retried; a refused connection or an unknown host means the backend is unreachable
 * (offline); other 4xx are rejected requests that a retry cannot fix.
 */
import { ApplicationFailure } from '@temporalio/common';
import { BACKEND_LABELS, type BackendName } from './types.js';

export const LITERATURE_ERROR_TYPES = {
  rateLimited: 'LiteratureRateLimited',
  serverError: 'LiteratureServerError',
  timeout: 'LiteratureTimeout',
  unreachable: 'LiteratureUnreachable',
  rejected: 'LiteratureRequestRejected',
  config: 'LiteratureConfigError',
  invalid: 'InvalidInput',
} as const;

export type LiteratureErrorKind = 'rate_limited' | 'server' | 'timeout' | 'unreachable' | 'rejected';

/** Kinds worth another attempt: the backend answered, or may answer, if asked again later. */
export const TRANSIENT_KINDS: ReadonlySet<LiteratureErrorKind> = new Set(['rate_limited', 'server', 'timeout']);

/**
 * A Retry-After longer than this is a spent quota (OpenAlex's daily limit), not a burst: the
 * backend is reported as failing rather than holding the run for hours.
 */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

export class LiteratureError extends Error {
  override readonly name = 'LiteratureError';
  constructor(
    readonly backend: BackendName,
    readonly kind: LiteratureErrorKind,
    /** What went wrong, without the backend's name (the message starts with it). */
    readonly detail: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(`${BACKEND_LABELS[backend]}: ${detail}`);
  }

  get transient(): boolean {
    return TRANSIENT_KINDS.has(this.kind) && !(this.retryAfterMs !== undefined && this.retryAfterMs > MAX_RETRY_AFTER_MS);
  }
}

export function configError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, LITERATURE_ERROR_TYPES.config);
}

export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, LITERATURE_ERROR_TYPES.invalid);
}

/** Node's fetch wraps the socket error in `cause`; its code tells offline from flaky. */
function causeCode(err: unknown): string | undefined {
  let e = err as { code?: string; cause?: unknown } | undefined;
  for (let i = 0; e && i < 5; i++, e = e.cause as typeof e) if (typeof e.code === 'string') return e.code;
  return undefined;
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'EADDRNOTAVAIL']);

/** A fetch that threw (no HTTP status): timeout, offline, or a connection that broke. */
export function networkError(backend: BackendName, err: unknown, url: string, timeoutMs: number): LiteratureError {
  if (err instanceof LiteratureError) return err;
  const e = err as { name?: string; message?: string };
  const where = new URL(url).origin;
  if (e?.name === 'TimeoutError') return new LiteratureError(backend, 'timeout', `no answer from ${where} within ${timeoutMs} ms`);
  const code = causeCode(err);
  if (code && UNREACHABLE_CODES.has(code)) {
    const what = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? 'host not found' : 'network unreachable';
    return new LiteratureError(backend, 'unreachable', `cannot reach ${where}: ${what} (${code})`);
  }
  // A reset or a reply cut off: the server is there, so asking again may work.
  return new LiteratureError(backend, 'server', `connection to ${where} failed (${code ?? e?.message ?? String(err)})`);
}

/** Turns a LiteratureError (or anything thrown) into the ApplicationFailure Temporal acts on. */
export function toLiteratureFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (!(err instanceof LiteratureError)) {
    return ApplicationFailure.retryable(String((err as Error)?.message ?? err), LITERATURE_ERROR_TYPES.serverError);
  }
  switch (err.kind) {
    case 'rate_limited':
      return ApplicationFailure.create({
        message: err.message,
        type: LITERATURE_ERROR_TYPES.rateLimited,
        nextRetryDelay: err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, 100) : undefined,
      });
    case 'server':
      return ApplicationFailure.retryable(err.message, LITERATURE_ERROR_TYPES.serverError);
    case 'timeout':
      return ApplicationFailure.retryable(err.message, LITERATURE_ERROR_TYPES.timeout);
    case 'unreachable':
      return ApplicationFailure.retryable(err.message, LITERATURE_ERROR_TYPES.unreachable);
    case 'rejected':
      return ApplicationFailure.nonRetryable(err.message, LITERATURE_ERROR_TYPES.rejected);
  }
}

/**
 * One failure for several backends that failed in a retryable way: rate limited if any was
 * (waiting the longest Retry-After among them), else the first one's type.
 */
export function combinedFailure(errors: LiteratureError[]): ApplicationFailure {
  const message = errors.map((e) => e.message).join('; ');
  const limited = errors.filter((e) => e.kind === 'rate_limited');
  if (limited.length) {
    const delays = limited.map((e) => e.retryAfterMs).filter((d): d is number => d !== undefined);
    return ApplicationFailure.create({
      message,
      type: LITERATURE_ERROR_TYPES.rateLimited,
      nextRetryDelay: delays.length ? Math.max(100, ...delays) : undefined,
    });
  }
  const first = toLiteratureFailure(errors[0]);
  return ApplicationFailure.create({ message, type: first.type ?? undefined, nonRetryable: Boolean(first.nonRetryable) });
}
