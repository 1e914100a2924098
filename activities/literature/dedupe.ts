/**
 * Merges the records different backends return for the same paper: same DOI, same arXiv id, same
 * S2 or OpenAlex id, or the same normalised title (of three words or more) — unless the two carry
 * different arXiv ids. The merged record keeps the first record's fields and fills the gaps from
 * the others (ids, abstract, venue, year); its id is the best canonical id among them.
 */
import { canonicalRecordId } from './ids.js';
import { titleKey } from './titles.js';
import type { PaperRecord } from './types.js';

function keysOf(r: PaperRecord): string[] {
  const keys: string[] = [];
  if (r.doi) keys.push(`doi:${r.doi}`);
  if (r.arxivId) keys.push(`arxiv:${r.arxivId}`);
  if (r.s2Id) keys.push(`s2:${r.s2Id}`);
  if (r.openAlexId) keys.push(`oa:${r.openAlexId}`);
  const t = titleKey(r.title);
  if (t) keys.push(`title:${t}`);
  return keys;
}

function merge(base: PaperRecord, other: PaperRecord): PaperRecord {
  const m: PaperRecord = { ...base };
  for (const field of ['arxivId', 'doi', 's2Id', 'openAlexId', 'venue'] as const) if (!m[field] && other[field]) m[field] = other[field];
  if (m.year === undefined && other.year !== undefined) m.year = other.year;
  if (!m.abstract && other.abstract) m.abstract = other.abstract;
  if (!m.authors.length && other.authors.length) m.authors = other.authors;
  // Records from web search may have no canonical id (only Web:<url>): keep the one they have.
  const id = canonicalRecordId(m) ?? m.id;
  if (id !== m.id) {
    m.id = id;
    m.url = m.arxivId ? `https://arxiv.org/abs/${m.arxivId}` : m.doi ? `https://doi.org/${m.doi}` : m.url;
  }
  return m;
}

export function dedupeRecords(records: PaperRecord[]): PaperRecord[] {
  const groups: Array<{ record: PaperRecord; keys: Set<string> } | undefined> = [];
  const owner = new Map<string, number>();
  for (const record of records) {
    const keys = keysOf(record);
    const hits = [...new Set(keys.map((k) => owner.get(k)).filter((g): g is number => g !== undefined))].sort((a, b) => a - b);
    // A title match never merges two different arXiv papers.
    const compatible = hits.filter((g) => {
      const a = groups[g]!.record.arxivId;
      return !(a && record.arxivId && a !== record.arxivId);
    });
    if (!compatible.length) {
      groups.push({ record, keys: new Set(keys) });
      for (const k of keys) if (!owner.has(k)) owner.set(k, groups.length - 1);
      continue;
    }
    const [target, ...rest] = compatible;
    const group = groups[target]!;
    group.record = merge(group.record, record);
    for (const g of rest) {
      group.record = merge(group.record, groups[g]!.record);
      for (const k of groups[g]!.keys) group.keys.add(k);
      groups[g] = undefined;
    }
    const merged = new Set([target, ...rest]);
    for (const k of [...keys, ...group.keys]) {
      group.keys.add(k);
      const current = owner.get(k);
      if (current === undefined || merged.has(current)) owner.set(k, target);
    }
  }
  return groups.filter((g): g is { record: PaperRecord; keys: Set<string> } => Boolean(g)).map((g) => g.record);
}
