/**
 * Paper identifiers: recognising them in text and URLs and writing them in one canonical form,
 * so records from different backends and citations in documents compare equal.
 *
 * Canonical forms: `arXiv:2401.01234` (no version; old style `arXiv:hep-th/9901001`),
 * `DOI:10.1145/3442188.3445922` (lowercased: DOIs are case-insensitive), `S2:<40 hex>`
 * (Semantic Scholar paperId), `OpenAlex:W2741809807`. arXiv's own DataCite DOIs
 * (`10.48550/arXiv.<id>`) are written as the arXiv id they stand for.
 */

export type IdKind = 'arxiv' | 'doi' | 's2' | 'openalex';

export interface PaperId {
  kind: IdKind;
  /** The bare value: `2401.01234`, `10.1145/…` (lowercase), the S2 paperId, `W123`. */
  value: string;
  /** `arXiv:…`, `DOI:…`, `S2:…`, `OpenAlex:…`. */
  canonical: string;
}

const NEW_ARXIV = String.raw`\d{4}\.\d{4,5}`;
const OLD_ARXIV = String.raw`[a-z]+(?:-[a-z]+)*(?:\.[A-Z]{2})?\/\d{7}`;
const ARXIV_BODY = `(?:${NEW_ARXIV}|${OLD_ARXIV})`;
const ARXIV_ONLY = new RegExp(`^(${ARXIV_BODY})(?:v\\d+)?$`, 'i');
const DOI_BODY = String.raw`10\.\d{4,9}\/[^\s"<>\]\[]+`;
const S2_BODY = '[0-9a-f]{40}';
const ARXIV_DOI_PREFIX = '10.48550/arxiv.';

export function arxivId(value: string): PaperId | undefined {
  const m = ARXIV_ONLY.exec(value.trim());
  if (!m) return undefined;
  // Old-style archive names are lowercase, their subject class (math.GT) upper case.
  const body = m[1].includes('/') ? m[1].replace(/^([a-z-]+)/i, (a) => a.toLowerCase()) : m[1];
  return { kind: 'arxiv', value: body, canonical: `arXiv:${body}` };
}

/** Strips what prose puts after a DOI (a full stop, a closing parenthesis that it did not open). */
function trimDoi(doi: string): string {
  let d = doi;
  for (;;) {
    const before = d;
    d = d.replace(/[.,;:'"*_]+$/, '');
    if (d.endsWith(')') && (d.match(/\(/g)?.length ?? 0) < (d.match(/\)/g)?.length ?? 0)) d = d.slice(0, -1);
    if (d === before) return d;
  }
}

export function doiId(value: string): PaperId | undefined {
  let v = value.trim();
  try {
    v = decodeURIComponent(v);
  } catch {
    /* keep as written */
  }
  v = v.replace(/^(?:https?:\/\/)?(?:dx\.)?doi\.org\//i, '').replace(/^doi:\s*/i, '');
  const m = new RegExp(`^${DOI_BODY}`, 'i').exec(v);
  if (!m) return undefined;
  const doi = trimDoi(m[0]).toLowerCase();
  if (doi.startsWith(ARXIV_DOI_PREFIX)) return arxivId(doi.slice(ARXIV_DOI_PREFIX.length));
  return { kind: 'doi', value: doi, canonical: `DOI:${doi}` };
}

export function s2Id(value: string): PaperId | undefined {
  const v = value.trim().toLowerCase();
  return new RegExp(`^${S2_BODY}$`).test(v) ? { kind: 's2', value: v, canonical: `S2:${v}` } : undefined;
}

export function openAlexId(value: string): PaperId | undefined {
  const m = /^(?:https?:\/\/openalex\.org\/(?:works\/)?)?(W\d+)$/i.exec(value.trim());
  return m ? { kind: 'openalex', value: m[1].toUpperCase(), canonical: `OpenAlex:${m[1].toUpperCase()}` } : undefined;
}

/** Reads an id written with its prefix (`arXiv:…`, `DOI:…`, `S2:…`, `OpenAlex:…`) or as a link to it. */
export function parsePaperId(text: string): PaperId | undefined {
  const t = text.trim();
  const prefixed = /^(arxiv|doi|s2|openalex|corpusid)\s*:\s*(.+)$/i.exec(t);
  if (prefixed) {
    const [, prefix, rest] = prefixed;
    switch (prefix.toLowerCase()) {
      case 'arxiv':
        return arxivId(rest);
      case 'doi':
        return doiId(rest);
      case 's2':
        return s2Id(rest);
      case 'openalex':
        return openAlexId(rest);
      default:
        return undefined;
    }
  }
  return idFromUrl(t) ?? doiId(t) ?? arxivId(t);
}

/** The id an arXiv, doi.org, Semantic Scholar or OpenAlex link points at. */
export function idFromUrl(url: string): PaperId | undefined {
  const arxiv = new RegExp(`^(?:https?:\\/\\/)?(?:www\\.|export\\.)?arxiv\\.org\\/(?:abs|pdf)\\/(${ARXIV_BODY}(?:v\\d+)?)(?:\\.pdf)?\\/?$`, 'i').exec(url);
  if (arxiv) return arxivId(arxiv[1]);
  if (/^(?:https?:\/\/)?(?:dx\.)?doi\.org\//i.test(url)) return doiId(url);
  const s2 = new RegExp(`^(?:https?:\\/\\/)?(?:www\\.|api\\.)?semanticscholar\\.org\\/(?:graph\\/v1\\/)?paper\\/(?:[^/\\s]+\\/)?(${S2_BODY})\\/?$`, 'i').exec(url);
  if (s2) return s2Id(s2[1]);
  const oa = /^(?:https?:\/\/)?(?:api\.)?openalex\.org\/(?:works\/)?(W\d+)\/?$/i.exec(url);
  if (oa) return openAlexId(oa[1]);
  return undefined;
}

/** Every id written in `text`, in order of appearance, each once. */
export function findPaperIds(text: string): PaperId[] {
  const pattern = new RegExp(
    [
      `arxiv\\s*:\\s*(${ARXIV_BODY})(?:v\\d+)?`,
      `arxiv\\.org\\/(?:abs|pdf)\\/(${ARXIV_BODY})(?:v\\d+)?`,
      `(?:doi\\s*:\\s*|doi\\.org\\/)(${DOI_BODY})`,
      `\\bS2\\s*:\\s*(${S2_BODY})\\b`,
      `semanticscholar\\.org\\/paper\\/(?:[^/\\s)]+\\/)?(${S2_BODY})\\b`,
      `\\bopenalex(?:\\s*:\\s*|\\.org\\/(?:works\\/)?)(W\\d+)\\b`,
    ].join('|'),
    'gi',
  );
  const seen = new Set<string>();
  const ids: PaperId[] = [];
  for (const m of text.matchAll(pattern)) {
    const id =
      m[1] || m[2] ? arxivId(m[1] ?? m[2]) : m[3] ? doiId(m[3]) : m[4] || m[5] ? s2Id(m[4] ?? m[5]) : m[6] ? openAlexId(m[6]) : undefined;
    if (id && !seen.has(id.canonical)) {
      seen.add(id.canonical);
      ids.push(id);
    }
  }
  return ids;
}

/** The canonical id of a record: its arXiv id, else its DOI, else its S2 id, else its OpenAlex id. */
export function canonicalRecordId(ids: { arxivId?: string; doi?: string; s2Id?: string; openAlexId?: string }): string | undefined {
  if (ids.arxivId) return `arXiv:${ids.arxivId}`;
  if (ids.doi) return `DOI:${ids.doi}`;
  if (ids.s2Id) return `S2:${ids.s2Id}`;
  if (ids.openAlexId) return `OpenAlex:${ids.openAlexId}`;
  return undefined;
}

/** The arXiv DataCite DOI of an arXiv id (how OpenAlex knows arXiv preprints). */
export function arxivDoi(arxiv: string): string {
  return `10.48550/arxiv.${arxiv.toLowerCase()}`;
}
