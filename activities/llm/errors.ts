/**
 * Maps provider errors onto Temporal retry semantics: rate limits, 5xx, network errors and
 * timeouts are retried by Temporal (the SDKs' own retries are off, so every attempt shows
 * in history); bad requests, auth and missing config fail at once with a fixable message.
 */
import { ApplicationFailure } from '@temporalio/common';

import { LLM_ERROR_TYPES } from '../../common/errorTypes.js';

export { LLM_ERROR_TYPES };

export function configError(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, LLM_ERROR_TYPES.config);
}

export function budgetExhausted(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, LLM_ERROR_TYPES.budget);
}

/** A reply still cut short at its output limit after every continuation allowed. */
export function outputTruncated(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, LLM_ERROR_TYPES.truncated);
}

interface HttpLikeError {
  status?: number;
  headers?: Headers | Record<string, string | null | undefined>;
  message?: string;
  name?: string;
  code?: string;
}

/** Seconds (or an HTTP date) from Retry-After / retry-after-ms, as milliseconds. */
export function retryAfterMs(headers: HttpLikeError['headers'], nowMs = Date.now()): number | undefined {
  if (!headers) return undefined;
  const get = (name: string): string | null | undefined =>
    typeof (headers as Headers).get === 'function' ? (headers as Headers).get(name) : (headers as Record<string, string>)[name];
  const ms = Number(get('retry-after-ms'));
  if (Number.isFinite(ms) && ms > 0) return ms;
  const value = get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, date - nowMs) : undefined;
}

/**
 * Classifies an error thrown by the OpenAI or Anthropic SDK (or fetch) into an ApplicationFailure.
 * `keyVariable` names the environment variable to mention on auth errors.
 */
export function toTemporalFailure(err: unknown, ctx: { provider: string; model: string; keyVariable?: string }): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  const e = (err ?? {}) as HttpLikeError;
  const where = `${ctx.provider} model "${ctx.model}"`;
  const detail = (e.message ?? String(err)).slice(0, 300);
  const status = typeof e.status === 'number' ? e.status : undefined;

  if (status === undefined) {
    // Only an error without an HTTP status is judged by its text: a 4xx whose message merely
    // mentions a timeout is still a rejected request (and a 429 keeps its Retry-After).
    if (/timeout|timed out/i.test(e.name ?? '') || /timed? ?out/i.test(detail)) {
      return ApplicationFailure.retryable(`${where}: request timed out (${detail})`, LLM_ERROR_TYPES.timeout);
    }
    return ApplicationFailure.retryable(`${where}: connection failed (${detail})`, LLM_ERROR_TYPES.network);
  }
  if (status === 429) {
    const delay = retryAfterMs(e.headers);
    return ApplicationFailure.create({
      message: `${where}: rate limited (429)${delay !== undefined ? `, retry after ${Math.ceil(delay / 1000)}s` : ''}`,
      type: LLM_ERROR_TYPES.rateLimited,
      nextRetryDelay: delay !== undefined ? Math.max(delay, 100) : undefined,
    });
  }
  if (status === 401 || status === 403) {
    const fix = ctx.keyVariable ? `check ${ctx.keyVariable}` : 'check the API key of the endpoint';
    return ApplicationFailure.nonRetryable(`${where}: authentication failed (${status}); ${fix}`, LLM_ERROR_TYPES.auth);
  }
  if (status === 404) {
    return ApplicationFailure.nonRetryable(`${where}: not found (404): is the model name right? (${detail})`, LLM_ERROR_TYPES.config);
  }
  if (status === 408 || status === 409 || status >= 500) {
    return ApplicationFailure.retryable(`${where}: provider error ${status} (${detail})`, LLM_ERROR_TYPES.serverError);
  }
  return ApplicationFailure.nonRetryable(`${where}: request rejected (${status}): ${detail}`, LLM_ERROR_TYPES.invalid);
}
