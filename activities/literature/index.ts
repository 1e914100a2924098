/**
 * The literature activities, run on the `literature` task queue:
 * - `searchLiterature`: every enabled backend, every query, cached on disk, deduplicated;
 * - `resolveCitations`: the citation check (does each cited id exist, does its title match);
 * - `literaturePreflight`: one cheap request per enabled backend, a message for each that fails.
 *
 * Failure policy. A backend that cannot be reached at all (connection refused, unknown host) is
 * reported `ok: false` at once: an offline machine gets an answer, not endless retries, and the
 * stage can say so and cite nothing. A backend that answers 429 / 5xx or times out fails the
 * activity so Temporal retries it (429 after its Retry-After, through `nextRetryDelay`); the
 * answers already received are on disk, so the retry asks only what is missing. On the last
 * attempt (the retry policy's `maximumAttempts`, or `giveUpAfterAttempts`, default 4) such a
 * backend is reported `ok: false` instead. Bad configuration and invalid input fail at once.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { citationReportSchema, citationSchema, type Citation, type CitationReport, type FlaggedCitation } from '../../common/citations.js';
import { literatureCacheDir } from '../config.js';
import { withHeartbeat } from '../heartbeat.js';
import { matchTitle, TITLE_MATCH_THRESHOLD } from '../integrity/citations.js';
import { ArxivBackend } from './arxiv.js';
import type { LiteratureBackend } from './backend.js';
import { LiteratureCache, normaliseQuery, type CachedResolve, type CachedSearch } from './cache.js';
import { literatureSettings, LiteratureConfigError } from './config.js';
import { dedupeRecords } from './dedupe.js';
import { combinedFailure, configError, invalidInput, LiteratureError } from './errors.js';
import type { RequestContext } from './http.js';
import { parsePaperId, type IdKind, type PaperId } from './ids.js';
import { OpenAlexBackend } from './openAlex.js';
import { SemanticScholarBackend } from './semanticScholar.js';
import { WebSearchBackend } from './webSearch.js';
import {
  BACKEND_LABELS,
  searchLiteratureInputSchema,
  type BackendName,
  type BackendOutcome,
  type LiteratureSearchResult,
  type PaperRecord,
  type SearchLiteratureInput,
} from './types.js';

export * from './types.js';
export { LITERATURE_ERROR_TYPES } from './errors.js';

/** Attempts after which a backend still failing with 429 / 5xx / timeouts is reported instead of retried. */
export const DEFAULT_GIVE_UP_AFTER_ATTEMPTS = 4;

export const resolveCitationsInputSchema = z.object({
  citations: z.array(citationSchema).max(500),
  /** As for searchLiterature. */
  giveUpAfterAttempts: z.number().int().min(1).max(100).optional(),
});
export type ResolveCitationsInput = z.input<typeof resolveCitationsInputSchema>;

export interface LiteratureDeps {
  /** Where keys, URLs and rates are read (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Default: `LAB_HOME/literature-cache`. */
  cacheDir?: string;
  /** Replaces the backends built from the environment (tests). */
  backends?: LiteratureBackend[];
  /** The current attempt and the attempts allowed (default: the activity's info; 1 and unlimited outside one). */
  attempt?: () => { attempt: number; maximumAttempts?: number };
}

interface CallContext {
  signal?: AbortSignal;
  /** Records progress; sent with the next heartbeat. */
  beat(details: unknown): void;
  /** Runs `work` heartbeating (with the latest progress) every few seconds, inside an activity. */
  run<T>(work: () => Promise<T>): Promise<T>;
  attempt: number;
  /** True when this attempt must answer rather than fail for a retry. */
  lastAttempt(giveUpAfter?: number): boolean;
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Builds the enabled backends from settings (the env's, unless tests pass their own). */
export function createBackends(env: NodeJS.ProcessEnv = process.env): LiteratureBackend[] {
  const s = literatureSettings(env);
  return s.backends.map((name) =>
    name === 'arxiv'
      ? new ArxivBackend(s.arxiv)
      : name === 'semantic_scholar'
        ? new SemanticScholarBackend(s.semanticScholar)
        : name === 'web_search'
          ? new WebSearchBackend(s.webSearch!)
          : new OpenAlexBackend(s.openAlex),
  );
}

/** Which backends can look an id up, best first (web_search looks nothing up: its `Web:` ids stay unverified). */
const RESOLVE_ORDER: Record<IdKind, BackendName[]> = {
  arxiv: ['arxiv', 'semantic_scholar', 'openalex'],
  doi: ['openalex', 'semantic_scholar'],
  s2: ['semantic_scholar'],
  openalex: ['openalex'],
};

function asLiteratureError(backend: BackendName, err: unknown): LiteratureError {
  if (err instanceof LiteratureError) return err;
  return new LiteratureError(backend, 'server', `unexpected failure: ${(err as Error)?.message ?? String(err)}`);
}

export function createLiteratureActivities(deps: LiteratureDeps = {}) {
  const env = deps.env ?? process.env;
  let cache: LiteratureCache | undefined;
  const getCache = () => (cache ??= new LiteratureCache(deps.cacheDir ?? literatureCacheDir()));

  function backends(): LiteratureBackend[] {
    if (deps.backends) return deps.backends;
    try {
      return createBackends(env);
    } catch (err) {
      if (err instanceof LiteratureConfigError) throw configError(err.message);
      throw err;
    }
  }

  function callContext(): CallContext {
    const ctx = activityContext();
    const info = deps.attempt?.() ?? {
      attempt: ctx?.info.attempt ?? 1,
      maximumAttempts: ctx?.info.retryPolicy?.maximumAttempts || undefined,
    };
    let progress: unknown;
    return {
      signal: ctx?.cancellationSignal,
      beat: (details) => {
        progress = details;
      },
      // A request can wait its timeout (30 s by default) and the rate limiter before it: beat meanwhile.
      run: (work) => (ctx ? withHeartbeat(work, () => progress) : work()),
      attempt: info.attempt,
      lastAttempt: (giveUpAfter = DEFAULT_GIVE_UP_AFTER_ATTEMPTS) => info.attempt >= Math.min(giveUpAfter, info.maximumAttempts ?? Infinity),
    };
  }

  function parseInput<T extends z.ZodTypeAny>(schema: T, input: unknown, what: string): z.output<T> {
    const parsed = schema.safeParse(input);
    if (!parsed.success) throw invalidInput(`${what}: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`);
    return parsed.data;
  }

  interface BackendRun {
    name: BackendName;
    /** Per query, in query order (empty for a query not answered). */
    lists: PaperRecord[][];
    requests: number;
    cached: number;
    error?: LiteratureError;
  }

  async function searchBackend(backend: LiteratureBackend, queries: string[], limit: number, call: CallContext, progress: () => void): Promise<BackendRun> {
    const run: BackendRun = { name: backend.name, lists: [], requests: 0, cached: 0 };
    const rc: RequestContext = { signal: call.signal, onRequest: () => run.requests++ };
    for (const query of queries) {
      const key = `${limit}|${normaliseQuery(query)}`;
      const hit = await getCache().get<CachedSearch>(backend.name, 'search', key);
      if (hit) {
        run.cached++;
        run.lists.push(hit.value);
      } else if (run.error) {
        // After a failure this backend is not asked again in this attempt; cached answers still count.
        run.lists.push([]);
      } else {
        try {
          const records = await backend.search(query, limit, rc);
          await getCache().put<CachedSearch>(backend.name, 'search', key, records);
          run.lists.push(records);
        } catch (err) {
          if (call.signal?.aborted) throw err;
          run.error = asLiteratureError(backend.name, err);
          run.lists.push([]);
        }
      }
      progress();
    }
    return run;
  }

  /**
   * Searches every enabled backend for every query (at most `perQuery` records each) and returns
   * the records deduplicated, interleaved by rank (each backend's first hits come first).
   */
  async function searchLiterature(input: SearchLiteratureInput): Promise<LiteratureSearchResult> {
    const { queries: rawQueries, perQuery, giveUpAfterAttempts } = parseInput(searchLiteratureInputSchema, input, 'searchLiterature');
    const call = callContext();
    const enabled = backends();
    const queries = [...new Map(rawQueries.map((q) => [normaliseQuery(q), q])).values()];
    let done = 0;
    const total = queries.length * enabled.length;
    call.beat({ done, total });
    const runs = await call.run(() => Promise.all(enabled.map((b) => searchBackend(b, queries, perQuery, call, () => call.beat({ done: ++done, total })))));

    const retryable = runs.map((r) => r.error).filter((e): e is LiteratureError => Boolean(e?.transient));
    if (retryable.length && !call.lastAttempt(giveUpAfterAttempts)) throw combinedFailure(retryable);

    const ordered: PaperRecord[] = [];
    for (let q = 0; q < queries.length; q++) {
      const depth = Math.max(0, ...runs.map((r) => r.lists[q]?.length ?? 0));
      for (let rank = 0; rank < depth; rank++) for (const r of runs) if (r.lists[q]?.[rank]) ordered.push(r.lists[q][rank]);
    }
    const outcomes: BackendOutcome[] = runs.map((r) => ({
      name: r.name,
      ok: !r.error,
      ...(r.error ? { error: r.error.transient ? `${r.error.message} (gave up after ${call.attempt} attempts)` : r.error.message } : {}),
      requests: r.requests,
      cached: r.cached,
    }));
    return { records: dedupeRecords(ordered), backends: outcomes };
  }

  /** Looks `id` up on one backend and caches the answer ("no such paper" included). */
  async function lookUp(backend: LiteratureBackend, id: PaperId, rc: RequestContext): Promise<CachedResolve> {
    const record = await backend.resolve(id, rc);
    await getCache().put<CachedResolve>(backend.name, 'resolve', id.canonical, record);
    return record;
  }

  interface Lookup {
    record: PaperRecord | null;
    /** A backend authoritative for the id said it has no such paper. */
    finalNotFound: boolean;
    notFoundBy: string[];
    errors: LiteratureError[];
  }

  /**
   * Finds the record of `id`: answers on disk first, from any backend (a retried or resumed check
   * asks nothing it was told), then the backends in order until one has it or an authoritative one
   * says it does not exist. Backends in `down` failed earlier in this attempt and are not asked.
   */
  async function findRecord(id: PaperId, order: LiteratureBackend[], down: Map<BackendName, LiteratureError>, rc: RequestContext): Promise<Lookup> {
    const out: Lookup = { record: null, finalNotFound: false, notFoundBy: [], errors: [] };
    const toAsk: LiteratureBackend[] = [];
    for (const backend of order) {
      const hit = await getCache().get<CachedResolve>(backend.name, 'resolve', id.canonical);
      if (!hit) toAsk.push(backend);
      else if (hit.value) return { ...out, record: hit.value };
      else {
        out.notFoundBy.push(BACKEND_LABELS[backend.name]);
        if (backend.authoritativeFor(id)) return { ...out, finalNotFound: true };
      }
    }
    for (const backend of toAsk) {
      const known = down.get(backend.name);
      if (known) {
        out.errors.push(known);
        continue;
      }
      try {
        out.record = await lookUp(backend, id, rc);
      } catch (err) {
        if (rc.signal?.aborted) throw err;
        const e = asLiteratureError(backend.name, err);
        if (e.kind !== 'rejected') down.set(backend.name, e);
        out.errors.push(e);
        continue;
      }
      if (out.record) return out;
      out.notFoundBy.push(BACKEND_LABELS[backend.name]);
      if (backend.authoritativeFor(id)) return { ...out, finalNotFound: true };
    }
    return out;
  }

  /**
   * The citation check: each cited id must resolve on a backend and, when the document gives a
   * title, that title must match the record's (see TITLE_MATCH_THRESHOLD). Reasons for a flag:
   * `no_id`, `not_found`, `title_mismatch`, `unverifiable_offline` (no backend that can look the
   * id up answered). Rate limits and server errors fail the activity for a retry, as in search.
   */
  async function resolveCitations(input: ResolveCitationsInput): Promise<CitationReport> {
    const { citations: raw, giveUpAfterAttempts } = parseInput(resolveCitationsInputSchema, input, 'resolveCitations');
    const call = callContext();
    const enabled = new Map(backends().map((b) => [b.name, b]));
    const rc: RequestContext = { signal: call.signal };
    const down = new Map<BackendName, LiteratureError>();
    const retryable: LiteratureError[] = [];

    const seen = new Set<string>();
    const citations: Citation[] = [];
    for (const c of raw) {
      const key = c.id ? (parsePaperId(c.id)?.canonical ?? c.id) : undefined;
      if (key && seen.has(key)) continue;
      if (key) seen.add(key);
      citations.push(c);
    }

    const verifiedIds: string[] = [];
    const flagged: FlaggedCitation[] = [];
    const check = async (c: Citation): Promise<void> => {
      const shown = c.title ?? c.text?.slice(0, 300);
      const title = shown ? { title: shown } : {};
      if (!c.id) {
        flagged.push({ reason: 'no_id', ...title, detail: 'the reference carries no arXiv id, DOI or S2 id' });
        return;
      }
      const id = parsePaperId(c.id);
      if (!id) {
        flagged.push({ id: c.id, reason: 'not_found', ...title, detail: 'not a valid arXiv id, DOI, S2 or OpenAlex id' });
        return;
      }
      const order = RESOLVE_ORDER[id.kind].map((n) => enabled.get(n)).filter((b): b is LiteratureBackend => Boolean(b?.canResolve(id)));
      const { record, finalNotFound, notFoundBy, errors } = await findRecord(id, order, down, rc);
      if (record) {
        const m = matchTitle(c, record.title);
        if (m.match) verifiedIds.push(id.canonical);
        else
          flagged.push({
            id: id.canonical,
            title: shown ?? m.cited,
            reason: 'title_mismatch',
            detail: `${BACKEND_LABELS[record.source]} has "${record.title}" (similarity ${m.score.toFixed(2)} < ${TITLE_MATCH_THRESHOLD})`,
          });
      } else if (finalNotFound || (notFoundBy.length && !errors.length)) {
        flagged.push({ id: id.canonical, ...title, reason: 'not_found', detail: `no such paper on ${notFoundBy.join(', ')}` });
      } else if (errors.some((e) => e.transient) && !call.lastAttempt(giveUpAfterAttempts)) {
        retryable.push(...errors.filter((e) => e.transient));
      } else {
        const why = !order.length
          ? `no enabled backend can look up ${id.kind === 's2' ? 'S2' : id.kind} ids`
          : [...errors.map((e) => e.message), ...(notFoundBy.length ? [`not on ${notFoundBy.join(', ')}`] : [])].join('; ');
        flagged.push({ id: id.canonical, ...title, reason: 'unverifiable_offline', detail: why });
      }
    };
    await call.run(async () => {
      for (const [index, c] of citations.entries()) {
        call.beat({ checked: index, of: citations.length });
        await check(c);
      }
    });
    // What did resolve is on disk: the retry asks only for the rest.
    if (retryable.length) throw combinedFailure([...new Map(retryable.map((e) => [e.backend, e])).values()]);
    return citationReportSchema.parse({ checked: citations.length, verified: verifiedIds.length, verifiedIds, flagged });
  }

  /** One message per enabled backend that does not answer a cheap request (none when all answer). */
  async function literaturePreflight(): Promise<string[]> {
    let enabled: LiteratureBackend[];
    try {
      enabled = backends();
    } catch (err) {
      return [err instanceof ApplicationFailure ? err.message : String((err as Error)?.message ?? err)];
    }
    const signal = activityContext()?.cancellationSignal;
    const messages = await Promise.all(
      enabled.map(async (b) => {
        try {
          await b.ping({ signal });
          return undefined;
        } catch (err) {
          if (signal?.aborted) throw err;
          const e = asLiteratureError(b.name, err);
          // A 429 burst means it is there and answering; a spent quota (a long Retry-After) is a problem.
          if (e.kind === 'rate_limited' && e.transient) return undefined;
          return `${b.describe()} did not answer: ${e.detail}`;
        }
      }),
    );
    return messages.filter((m): m is string => Boolean(m));
  }

  return { searchLiterature, resolveCitations, literaturePreflight };
}

export type LiteratureActivities = ReturnType<typeof createLiteratureActivities>;
