/**
 * A setting that must be an http(s) URL: `raw` parsed, or undefined when it is not one, whether it
 * does not parse (`127.0.0.1:4318`) or parses with another scheme (`localhost:4318`, `ftp://...`).
 */
export function httpUrl(raw: string): URL | undefined {
  if (!URL.canParse(raw)) return undefined;
  const url = new URL(raw);
  return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
}
