/** What every search backend offers the literature activities. */
import type { RequestContext } from './http.js';
import type { PaperId } from './ids.js';
import type { BackendName, PaperRecord } from './types.js';

export interface LiteratureBackend {
  readonly name: BackendName;
  /** Where it asks, for messages: `arXiv (https://export.arxiv.org/api/query)`. */
  describe(): string;
  /** Up to `limit` records for a free-text query, best first. */
  search(query: string, limit: number, ctx?: RequestContext): Promise<PaperRecord[]>;
  /** Which ids `resolve` can look up. */
  canResolve(id: PaperId): boolean;
  /** True when this backend's "no such paper" is final for the id (arXiv for arXiv ids, ...). */
  authoritativeFor(id: PaperId): boolean;
  /** The record of an id, or null when the backend has no such paper. */
  resolve(id: PaperId, ctx?: RequestContext): Promise<PaperRecord | null>;
  /** One cheap request; throws a LiteratureError when the backend does not answer properly. */
  ping(ctx?: RequestContext): Promise<void>;
}
