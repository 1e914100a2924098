/** Failures as a person reads them (pure: workflows import it). */

/** The innermost cause's message (child workflow → activity → application failure): what a person can act on. */
export function innermostMessage(err: unknown): string {
  let e = err as { cause?: unknown; message?: string } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
