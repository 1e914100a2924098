/**
 * Where a link or figure in an agent-written document may point: http(s) and mailto addresses,
 * `#anchors`, and paths relative to the document, which resolve to a file of the run (served by
 * `GET /runs/<id>/files/<path>`). Anything else (javascript:, data:, an absolute or
 * protocol-relative path, a path leaving the run's folder) is refused.
 */

export type LinkTarget =
  | { kind: 'external'; href: string; scheme: 'http' | 'https' | 'mailto' }
  | { kind: 'anchor'; href: string }
  | { kind: 'runFile'; path: string }
  | { kind: 'refused'; why: string };

/**
 * What `raw` (a link destination as written) points to, read as a browser would read it: tabs and
 * newlines inside are dropped and spaces and control characters at the ends trimmed (so
 * `java\tscript:` is `javascript:`). `folder` is the document's folder inside the run ('' for the
 * run's top).
 */
export function classifyHref(raw: string, folder: string): LinkTarget {
  const referenced = decodeReferences(raw);
  if (referenced === undefined) return { kind: 'refused', why: 'the address holds character references' };
  const href = referenced.replace(/[\t\n\r]/g, '').replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, '');
  if (/[\u0000-\u001f\u007f]/.test(href)) return { kind: 'refused', why: 'the address holds control characters' };
  if (href.startsWith('#')) return { kind: 'anchor', href };
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(href)?.[1].toLowerCase();
  if (scheme === 'http' || scheme === 'https' || scheme === 'mailto') return { kind: 'external', href, scheme };
  if (scheme) return { kind: 'refused', why: `a ${scheme}: address` };
  if (/^[/\\]/.test(href)) return { kind: 'refused', why: 'an absolute path, not one relative to the document' };
  const pathPart = href.split(/[?#]/)[0];
  if (!pathPart) return { kind: 'refused', why: 'an empty path' };
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathPart);
  } catch {
    return { kind: 'refused', why: 'the path is not valid URL encoding' };
  }
  if (decoded.includes('\\')) return { kind: 'refused', why: 'a path with backslashes' };
  const resolved = resolveInRun(folder, decoded);
  return resolved === undefined ? { kind: 'refused', why: "a path that leaves the run's folder" } : { kind: 'runFile', path: resolved };
}

const BASIC_REFERENCES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * The address with its character references decoded, as CommonMark reads a link destination
 * (`&#x6A;avascript:` is `javascript:`); undefined when it holds a named one beyond the five basic
 * ones, which no honest address needs. The result is what gets checked and, escaped, written.
 */
function decodeReferences(raw: string): string | undefined {
  let unknown = false;
  const out = raw.replace(/&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/g, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : '\uFFFD';
    }
    if (ref in BASIC_REFERENCES) return BASIC_REFERENCES[ref];
    unknown = true;
    return whole;
  });
  return unknown ? undefined : out;
}

/** `relative` joined to `folder` with `.` and `..` resolved; undefined when it climbs above the run's folder. */
export function resolveInRun(folder: string, relative: string): string | undefined {
  const parts: string[] = [];
  for (const part of [...folder.split('/'), ...relative.split('/')]) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (!parts.length) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return parts.length ? parts.join('/') : undefined;
}

/** The console's address of a run's file. */
export function runFileUrl(runId: string, name: string): string {
  return `/runs/${encodeURIComponent(runId)}/files/${name.split('/').map(encodeURIComponent).join('/')}`;
}
