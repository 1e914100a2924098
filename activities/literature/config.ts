/**
 * The literature backends' settings, read from the worker's environment (keys included: they
 * never travel through workflow input or history). Every variable is listed in docs/literature.md.
 */
import { BACKEND_LABELS, BACKEND_NAMES, type BackendName } from './types.js';

export interface BackendSettings {
  name: BackendName;
  /** arXiv: the query endpoint; Semantic Scholar: the Graph API root; OpenAlex: the API root. */
  baseUrl: string;
  minIntervalMs: number;
  timeoutMs: number;
}

export interface LiteratureSettings {
  backends: BackendName[];
  arxiv: BackendSettings;
  semanticScholar: BackendSettings & { apiKey?: string };
  openAlex: BackendSettings & { mailto?: string; apiKey?: string };
}

export const DEFAULT_BACKENDS = 'arxiv,semantic_scholar,openalex';

export const LITERATURE_DEFAULTS = {
  arxivUrl: 'https://export.arxiv.org/api/query',
  semanticScholarUrl: 'https://api.semanticscholar.org/graph/v1',
  openAlexUrl: 'https://api.openalex.org',
  /** arXiv's terms: no more than one request every three seconds. */
  arxivMinIntervalMs: 3000,
  /** Semantic Scholar: 1 request per second (the rate of an introductory key; the keyless pool is shared). */
  semanticScholarMinIntervalMs: 1000,
  /** OpenAlex: about 10 requests per second in the polite pool. */
  openAlexMinIntervalMs: 100,
  timeoutMs: 30_000,
} as const;

export class LiteratureConfigError extends Error {
  override readonly name = 'LiteratureConfigError';
}

function nonNegative(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new LiteratureConfigError(`${name} must be a number of milliseconds >= 0, got "${raw}"`);
  return value;
}

function url(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const raw = (env[name] || fallback).replace(/\/+$/, '');
  try {
    const u = new URL(raw);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
  } catch {
    throw new LiteratureConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
  return raw;
}

/** Parses `LAB_LITERATURE_BACKENDS` (`arxiv,semantic_scholar,openalex`; `none` or empty-string turns search off). */
export function parseBackends(list: string): BackendName[] {
  const names = list
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 1 && names[0] === 'none') return [];
  const out: BackendName[] = [];
  for (const n of names) {
    const name = n === 's2' || n === 'semanticscholar' ? 'semantic_scholar' : n;
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
      throw new LiteratureConfigError(`LAB_LITERATURE_BACKENDS: unknown backend "${n}" (known: ${BACKEND_NAMES.join(', ')}, or none)`);
    }
    if (!out.includes(name as BackendName)) out.push(name as BackendName);
  }
  return out;
}

export function literatureSettings(env: NodeJS.ProcessEnv = process.env): LiteratureSettings {
  const timeoutMs = nonNegative(env, 'LAB_LITERATURE_TIMEOUT_MS', LITERATURE_DEFAULTS.timeoutMs) || LITERATURE_DEFAULTS.timeoutMs;
  return {
    backends: parseBackends(env.LAB_LITERATURE_BACKENDS ?? DEFAULT_BACKENDS),
    arxiv: {
      name: 'arxiv',
      baseUrl: url(env, 'LAB_ARXIV_URL', LITERATURE_DEFAULTS.arxivUrl),
      minIntervalMs: nonNegative(env, 'LAB_ARXIV_MIN_INTERVAL_MS', LITERATURE_DEFAULTS.arxivMinIntervalMs),
      timeoutMs,
    },
    semanticScholar: {
      name: 'semantic_scholar',
      baseUrl: url(env, 'LAB_SEMANTIC_SCHOLAR_URL', LITERATURE_DEFAULTS.semanticScholarUrl),
      minIntervalMs: nonNegative(env, 'LAB_SEMANTIC_SCHOLAR_MIN_INTERVAL_MS', LITERATURE_DEFAULTS.semanticScholarMinIntervalMs),
      timeoutMs,
      apiKey: env.SEMANTIC_SCHOLAR_API_KEY || undefined,
    },
    openAlex: {
      name: 'openalex',
      baseUrl: url(env, 'LAB_OPENALEX_URL', LITERATURE_DEFAULTS.openAlexUrl),
      minIntervalMs: nonNegative(env, 'LAB_OPENALEX_MIN_INTERVAL_MS', LITERATURE_DEFAULTS.openAlexMinIntervalMs),
      timeoutMs,
      mailto: env.LAB_OPENALEX_MAILTO || undefined,
      apiKey: env.OPENALEX_API_KEY || undefined,
    },
  };
}

export function backendLabel(name: BackendName): string {
  return BACKEND_LABELS[name];
}
