/**
 * Who may decide at a gate from the console: whoever holds the token `lab ui --allow-decisions`
 * printed when it started. It comes with the decision form once, then from a cookie the console
 * sets (HttpOnly, SameSite=Strict: another site's page cannot send it, nor a script read it).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';

export const TOKEN_COOKIE = 'lab_ui_token';

export function newDecisionToken(): string {
  return randomBytes(24).toString('base64url');
}

/** Compares digests, so neither the length nor the content of the token leaks through timing. */
export function tokenMatches(expected: string, given: string | undefined): boolean {
  if (!given) return false;
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(expected), digest(given));
}

export function cookieToken(req: http.IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Set after the first accepted token, for this browser session only (no Max-Age). */
export function tokenCookie(token: string): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
}
