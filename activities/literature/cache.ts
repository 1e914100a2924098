/**
 * Answers already received, on disk, so a retried or resumed run does not ask again: one JSON
 * file per backend + kind + normalised query (or id), written atomically (temp file + rename).
 * Entries do not expire; delete the folder to ask afresh.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../atomicFile.js';
import type { BackendName, PaperRecord } from './types.js';

export type CacheKind = 'search' | 'resolve';

/** Lowercase, single spaces: `  Calibration   UNDER shift ` and `calibration under shift` ask the same. */
export function normaliseQuery(query: string): string {
  return query.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
}

interface Entry<T> {
  backend: BackendName;
  kind: CacheKind;
  key: string;
  savedAt: string;
  value: T;
}

export class LiteratureCache {
  constructor(readonly dir: string) {}

  file(backend: BackendName, kind: CacheKind, key: string): string {
    const hash = createHash('sha256').update(`${backend}\n${kind}\n${key}`).digest('hex');
    return path.join(this.dir, backend, kind, `${hash.slice(0, 2)}`, `${hash}.json`);
  }

  async get<T>(backend: BackendName, kind: CacheKind, key: string): Promise<{ value: T } | undefined> {
    try {
      const entry = JSON.parse(await fs.readFile(this.file(backend, kind, key), 'utf8')) as Entry<T>;
      // A hash collision or a hand-edited file: treat as absent.
      if (entry.backend !== backend || entry.kind !== kind || entry.key !== key) return undefined;
      return { value: entry.value };
    } catch {
      return undefined;
    }
  }

  async put<T>(backend: BackendName, kind: CacheKind, key: string, value: T): Promise<void> {
    const file = this.file(backend, kind, key);
    const entry: Entry<T> = { backend, kind, key, savedAt: new Date().toISOString(), value };
    await writeFileAtomic(file, JSON.stringify(entry));
  }
}

export type CachedSearch = PaperRecord[];
export type CachedResolve = PaperRecord | null;
