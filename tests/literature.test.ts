/**
 * Literature search and the citation check against fake arXiv, Semantic Scholar and OpenAlex
 * servers on 127.0.0.1 (tests/fakes/literatureServers.ts; invented corpus): each client reads its
 * API's shape, search deduplicates across backends and caches on disk, failures map onto
 * Temporal's retry semantics (one run through a real worker), an offline machine gets an answer,
 * and fabricated citations are flagged.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { citationReportSchema, formatCitationSummary } from '../common/citations.js';
import { PROJECT_ROOT } from '../activities/config.js';
import { matchTitle, parseCitations, parseReferencesJson, TITLE_MATCH_THRESHOLD } from '../activities/integrity/citations.js';
import { ArxivBackend, arxivSearchQuery, parseArxivFeed } from '../activities/literature/arxiv.js';
import { literatureSettings } from '../activities/literature/config.js';
import { LITERATURE_ERROR_TYPES, LiteratureError } from '../activities/literature/errors.js';
import { findPaperIds, parsePaperId } from '../activities/literature/ids.js';
import { createLiteratureActivities, paperRecordSchema, type LiteratureDeps } from '../activities/literature/index.js';
import { abstractFromInvertedIndex, OpenAlexBackend } from '../activities/literature/openAlex.js';
import { MinIntervalLimiter } from '../activities/literature/rateLimiter.js';
import { SemanticScholarBackend } from '../activities/literature/semanticScholar.js';
import { normaliseTitle, titleSimilarity } from '../activities/literature/titles.js';
import { FakeLiteratureServers, fakeIds, FAKE_CORPUS, refusedUrl } from './fakes/literatureServers.js';
import { createDevServerEnv, tempDir } from './helpers/temporal.js';

let servers: FakeLiteratureServers;
let cacheDir: string;

beforeAll(async () => {
  servers = await new FakeLiteratureServers().start();
});
afterAll(() => servers?.stop());
beforeEach(() => {
  servers.reset();
  cacheDir = tempDir('literature-cache');
});

function activities(extraEnv: NodeJS.ProcessEnv = {}, deps: Partial<LiteratureDeps> = {}) {
  return createLiteratureActivities({ env: servers.env(extraEnv), cacheDir, ...deps });
}

function settings(extraEnv: NodeJS.ProcessEnv = {}) {
  return literatureSettings(servers.env(extraEnv));
}

const paper = (arxivId: string) => FAKE_CORPUS.find((p) => p.arxivId === arxivId)!;
const byDoi = (doi: string) => FAKE_CORPUS.find((p) => p.doi === doi)!;

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApplicationFailure);
  return err as ApplicationFailure;
}

describe('backend clients read their API', () => {
  it('arXiv: Atom feed entries become records (version dropped, whitespace collapsed, DOI and journal ref kept)', async () => {
    const arxiv = new ArxivBackend(settings().arxiv);
    const records = await arxiv.search('Calibration under distribution shift', 5);
    const first = records.find((r) => r.arxivId === '2409.90001')!;
    expect(first).toEqual({
      source: 'arxiv',
      id: 'arXiv:2409.90001',
      title: 'Calibration Under Distribution Shift: A Benchmark of Post-hoc Methods',
      authors: ['Mira Castellanos', 'Joon-ho Adebayo', 'Tova Lindqvist'],
      year: 2024,
      abstract: paper('2409.90001').abstract,
      url: 'https://arxiv.org/abs/2409.90001',
      arxivId: '2409.90001',
      doi: '10.5555/timl.2024.0117',
      venue: 'Transactions on Imaginary Machine Learning (2024)',
    });
    expect(records.map((r) => paperRecordSchema.parse(r))).toHaveLength(records.length);
    // Free text becomes arXiv's fielded syntax; results by relevance.
    const q = servers.requests[0].query;
    expect(q).toMatchObject({ search_query: 'all:calibration AND all:under AND all:distribution AND all:shift', max_results: '5', sortBy: 'relevance' });
    expect(arxivSearchQuery('"covariate shift" calibration of ensembles')).toBe('all:"covariate shift" AND all:calibration AND all:ensembles');
    expect(arxivSearchQuery('ti:calibration AND au:smith')).toBe('ti:calibration AND au:smith');

    // Look-up by id_list: found, unknown (empty feed), malformed (400 with an error entry).
    expect((await arxiv.resolve(parsePaperId('arXiv:2305.90003v1')!))?.title).toBe('Conformal Prediction Sets for Shifted Test Distributions');
    expect(await arxiv.resolve(parsePaperId('arXiv:2409.99999')!)).toBeNull();
    expect(await arxiv.resolve({ kind: 'arxiv', value: '2409.9', canonical: 'arXiv:2409.9' })).toBeNull();
    expect(servers.requests.slice(1).map((r) => r.query.id_list)).toEqual(['2305.90003', '2409.99999', '2409.9']);
  });

  it('arXiv: LaTeX and ampersands survive, long abstracts are capped, error entries are recognised', async () => {
    const arxiv = new ArxivBackend(settings().arxiv);
    const [focal] = await arxiv.search('focal losses sparse recalibration', 3);
    expect(focal.title).toBe('Sparse $\\ell_1$ Recalibration & Focal Losses for Robust Classifiers');
    const [survey] = await arxiv.search('survey uncertainty estimation', 3);
    expect(survey.abstract!.length).toBeLessThanOrEqual(2000);
    expect(survey.abstract!.endsWith('…')).toBe(true);
    const feed = parseArxivFeed(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#incorrect_id_format_for_x</id><title>Error</title><summary>incorrect id format for x</summary></entry></feed>`);
    expect(feed).toEqual({ records: [], total: undefined, errors: ['incorrect id format for x'] });
    expect(() => parseArxivFeed('<html>Service Unavailable</html>')).toThrow(/not an Atom feed/);
  });

  it('Semantic Scholar: search and paper look-ups by arXiv id, DOI and paperId; the key goes in x-api-key', async () => {
    const s2 = new SemanticScholarBackend({ ...settings({ SEMANTIC_SCHOLAR_API_KEY: 'k-123' }).semanticScholar });
    const records = await s2.search('test-time adaptation entropy', 5);
    expect(records).toEqual([
      expect.objectContaining({
        source: 'semantic_scholar',
        id: 'arXiv:2402.90004',
        arxivId: '2402.90004',
        s2Id: fakeIds.s2(paper('2402.90004')),
        title: 'Test-Time Adaptation with Entropy Minimisation Revisited',
        year: 2024,
        url: `https://www.semanticscholar.org/paper/${fakeIds.s2(paper('2402.90004'))}`,
      }),
    ]);
    // arXiv's DataCite DOI (10.48550/arXiv.…) is the arXiv id, not a separate DOI.
    expect(records[0].doi).toBeUndefined();
    const search = servers.requests[0];
    expect(search.path).toBe('/graph/v1/paper/search');
    expect(search.query).toMatchObject({ query: 'test time adaptation entropy', limit: '5', fields: 'paperId,externalIds,title,abstract,year,venue,authors,url' });
    expect(search.headers['x-api-key']).toBe('k-123');

    expect((await s2.resolve(parsePaperId('arXiv:2305.90003')!))?.s2Id).toBe(fakeIds.s2(paper('2305.90003')));
    const doiPaper = byDoi('10.5555/icd.2023.42');
    expect(await s2.resolve(parsePaperId('DOI:10.5555/ICD.2023.42')!)).toMatchObject({ id: 'DOI:10.5555/icd.2023.42', title: doiPaper.title });
    expect((await s2.resolve(parsePaperId(`S2:${fakeIds.s2(doiPaper)}`)!))?.doi).toBe('10.5555/icd.2023.42');
    expect(await s2.resolve(parsePaperId('DOI:10.5555/does.not.exist')!)).toBeNull();
    expect(servers.requests.slice(1).map((r) => r.path)).toEqual([
      '/graph/v1/paper/ARXIV:2305.90003',
      '/graph/v1/paper/DOI:10.5555/icd.2023.42',
      `/graph/v1/paper/${fakeIds.s2(doiPaper)}`,
      '/graph/v1/paper/DOI:10.5555/does.not.exist',
    ]);
  });

  it('Semantic Scholar: a refused key is a rejected request naming SEMANTIC_SCHOLAR_API_KEY', async () => {
    servers.s2RequiredKey = 'right';
    const s2 = new SemanticScholarBackend(settings({ SEMANTIC_SCHOLAR_API_KEY: 'wrong' }).semanticScholar);
    const err = await s2.search('calibration', 3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LiteratureError);
    expect(err).toMatchObject({ kind: 'rejected', status: 403 });
    expect((err as Error).message).toMatch(/^Semantic Scholar: refused the request \(403\): Forbidden; check SEMANTIC_SCHOLAR_API_KEY/);
  });

  it('OpenAlex: works search in the polite pool, abstracts rebuilt from the inverted index, look-up by DOI', async () => {
    const oa = new OpenAlexBackend(settings({ OPENALEX_API_KEY: 'oa-key' }).openAlex);
    const records = await oa.search('scanner shift triage', 5);
    const p = byDoi('10.5555/ijmi.2024.301');
    expect(records).toEqual([
      {
        source: 'openalex',
        id: 'DOI:10.5555/ijmi.2024.301',
        title: p.title,
        authors: p.authors,
        year: 2024,
        abstract: p.abstract,
        url: 'https://doi.org/10.5555/ijmi.2024.301',
        doi: '10.5555/ijmi.2024.301',
        openAlexId: fakeIds.openAlex(p),
        venue: 'Invented Journal of Medical Imaging',
      },
    ]);
    expect(servers.requests[0].query).toMatchObject({ search: 'scanner shift triage', 'per-page': '5', mailto: 'lab-tests@example.org', api_key: 'oa-key' });
    // An arXiv preprint: its DataCite DOI gives the arXiv id.
    const [conformal] = await oa.search('weighted conformal prediction', 5);
    expect(conformal).toMatchObject({ id: 'arXiv:2305.90003', arxivId: '2305.90003', url: 'https://arxiv.org/abs/2305.90003' });
    expect(conformal.doi).toBeUndefined();
    expect(conformal.venue).toBeUndefined();

    expect(await oa.resolve(parsePaperId('doi:10.5555/jmus.2022.7')!)).toMatchObject({ title: byDoi('10.5555/jmus.2022.7').title });
    expect(await oa.resolve(parsePaperId('arXiv:2110.90009')!)).toMatchObject({ arxivId: '2110.90009' });
    expect(await oa.resolve(parsePaperId('DOI:10.5555/nope')!)).toBeNull();
    expect(servers.requests.slice(2).map((r) => r.path)).toEqual(['/works/doi:10.5555/jmus.2022.7', '/works/doi:10.48550/arxiv.2110.90009', '/works/doi:10.5555/nope']);
    expect(abstractFromInvertedIndex({ shift: [2], Calibration: [0], under: [1] })).toBe('Calibration under shift');
  });
});

describe('searchLiterature', () => {
  it('asks every backend, deduplicates by DOI, arXiv id and normalised title, and says what each did', async () => {
    const result = await activities().searchLiterature({ queries: ['calibration distribution shift'], perQuery: 10 });
    expect(result.backends).toEqual([
      { name: 'arxiv', ok: true, requests: 1, cached: 0 },
      { name: 'semantic_scholar', ok: true, requests: 1, cached: 0 },
      { name: 'openalex', ok: true, requests: 1, cached: 0 },
    ]);
    const ids = result.records.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    // On all three backends (arXiv id + journal DOI): one record that carries every id.
    const benchmark = result.records.filter((r) => r.title.startsWith('Calibration Under Distribution Shift'));
    expect(benchmark).toHaveLength(1);
    expect(benchmark[0]).toMatchObject({
      id: 'arXiv:2409.90001',
      source: 'arxiv',
      arxivId: '2409.90001',
      doi: '10.5555/timl.2024.0117',
      s2Id: fakeIds.s2(paper('2409.90001')),
      openAlexId: fakeIds.openAlex(paper('2409.90001')),
    });
    // On S2 and OpenAlex by DOI only.
    expect(result.records.filter((r) => r.doi === '10.5555/icd.2023.42')).toEqual([
      expect.objectContaining({ id: 'DOI:10.5555/icd.2023.42', source: 'semantic_scholar', openAlexId: fakeIds.openAlex(byDoi('10.5555/icd.2023.42')) }),
    ]);
    // OpenAlex's copy shares no id with arXiv's, only the title (case and punctuation differ).
    const reappraisal = result.records.filter((r) => normaliseTitle(r.title) === normaliseTitle('Temperature scaling under covariate shift: a reappraisal'));
    expect(reappraisal).toHaveLength(1);
    expect(reappraisal[0]).toMatchObject({ id: 'arXiv:2410.90002', openAlexId: fakeIds.openAlex(paper('2410.90002')) });
    for (const r of result.records) paperRecordSchema.parse(r);
    // Each backend's first hit comes before any backend's second.
    expect(result.records[0].source).toBe('arxiv');
  });

  it('a second identical search (even from another worker, in other words) makes no request', async () => {
    const input = { queries: ['conformal prediction', 'label shift estimation'], perQuery: 5 };
    const first = await activities().searchLiterature(input);
    const requests = servers.count();
    expect(requests).toBe(6); // arXiv has no label-shift paper: it is still asked
    const again = await activities().searchLiterature({ queries: ['  Conformal   PREDICTION', 'label shift estimation'], perQuery: 5 });
    expect(servers.count()).toBe(requests);
    expect(again.records).toEqual(first.records);
    expect(again.backends.map((b) => [b.name, b.requests, b.cached])).toEqual([
      ['arxiv', 0, 2],
      ['semantic_scholar', 0, 2],
      ['openalex', 0, 2],
    ]);
  });

  it('429 fails the activity with nextRetryDelay from Retry-After; the retry asks only the backend that failed', async () => {
    servers.fail('s2', { status: 429, headers: { 'retry-after': '7' } });
    const acts = activities();
    const input = { queries: ['importance weighting'], perQuery: 5 };
    const failure = await failureOf(acts.searchLiterature(input));
    expect(failure).toMatchObject({ type: LITERATURE_ERROR_TYPES.rateLimited, nonRetryable: false, nextRetryDelay: 7000 });
    expect(failure.message).toMatch(/^Semantic Scholar: rate limited \(429\), retry after 7s: Too Many Requests/);
    const before = servers.count();
    const result = await acts.searchLiterature(input);
    expect(servers.requests.slice(before).map((r) => r.api)).toEqual(['s2']);
    expect(result.backends.every((b) => b.ok)).toBe(true);
    expect(result.records).toHaveLength(1);
  });

  it('5xx and hang-ups are retryable; on the last attempt the backend is reported instead', async () => {
    servers.fail('openalex', { status: 503 });
    const failure = await failureOf(activities().searchLiterature({ queries: ['domain generalisation'], perQuery: 3 }));
    expect(failure).toMatchObject({ type: LITERATURE_ERROR_TYPES.serverError, nonRetryable: false });
    expect(failure.message).toMatch(/OpenAlex: server error 503/);

    servers.fail('arxiv', { hangUp: true });
    expect(await failureOf(activities().searchLiterature({ queries: ['benchmarks overstate'], perQuery: 3 }))).toMatchObject({
      type: LITERATURE_ERROR_TYPES.serverError,
    });

    // Fourth attempt of four: answer with what the other backends found.
    servers.fail('openalex', { status: 500 });
    const last = await activities({}, { attempt: () => ({ attempt: 4, maximumAttempts: 4 }) }).searchLiterature({ queries: ['selective classification abstention'], perQuery: 3 });
    expect(last.backends.find((b) => b.name === 'openalex')).toMatchObject({ ok: false, requests: 1 });
    expect(last.backends.find((b) => b.name === 'openalex')!.error).toMatch(/^OpenAlex: server error 500.*\(gave up after 4 attempts\)$/);
    expect(last.records.map((r) => r.id)).toEqual(['arXiv:2411.90005']);
    // The retry policy's maximumAttempts counts as well as giveUpAfterAttempts.
    servers.fail('openalex', { status: 500 });
    const capped = await activities({}, { attempt: () => ({ attempt: 2 }) }).searchLiterature({ queries: ['x'], perQuery: 1, giveUpAfterAttempts: 2 });
    expect(capped.backends.find((b) => b.name === 'openalex')!.ok).toBe(false);
  });

  it('a slow backend times out (retryable)', async () => {
    servers.slow('openalex', 1500);
    const failure = await failureOf(activities({ LAB_LITERATURE_TIMEOUT_MS: '300' }).searchLiterature({ queries: ['calibration'], perQuery: 2 }));
    expect(failure).toMatchObject({ type: LITERATURE_ERROR_TYPES.timeout, nonRetryable: false });
    expect(failure.message).toMatch(/OpenAlex: no answer from http:\/\/127\.0\.0\.1:\d+ within 300 ms/);
  });

  it('all backends offline: no records, every backend ok:false with its reason, and no throw', async () => {
    const env = { LAB_ARXIV_URL: await refusedUrl('/api/query'), LAB_SEMANTIC_SCHOLAR_URL: await refusedUrl('/graph/v1'), LAB_OPENALEX_URL: await refusedUrl() };
    const result = await activities(env).searchLiterature({ queries: ['calibration', 'conformal'], perQuery: 5 });
    expect(result.records).toEqual([]);
    expect(result.backends.map((b) => b.name)).toEqual(['arxiv', 'semantic_scholar', 'openalex']);
    for (const b of result.backends) {
      expect(b.ok).toBe(false);
      expect(b.requests).toBe(1); // not asked again after the first refusal
      expect(b.error).toMatch(/^(arXiv|Semantic Scholar|OpenAlex): cannot reach http:\/\/127\.0\.0\.1:\d+: connection refused \(ECONNREFUSED\)$/);
    }
  });

  it('one backend offline: reported, the others answer', async () => {
    await servers.offline('arxiv');
    try {
      const result = await activities().searchLiterature({ queries: ['conformal prediction'], perQuery: 3 });
      expect(result.backends.map((b) => b.ok)).toEqual([false, true, true]);
      expect(result.records.map((r) => r.id)).toEqual(['arXiv:2305.90003']);
    } finally {
      await servers.online('arxiv');
    }
  });

  it('bad input and bad configuration fail at once (non-retryable)', async () => {
    expect(await failureOf(activities().searchLiterature({ queries: [], perQuery: 5 }))).toMatchObject({ type: 'InvalidInput', nonRetryable: true });
    const config = await failureOf(activities({ LAB_LITERATURE_BACKENDS: 'arxiv,google' }).searchLiterature({ queries: ['x'], perQuery: 1 }));
    expect(config).toMatchObject({ type: LITERATURE_ERROR_TYPES.config, nonRetryable: true });
    expect(config.message).toMatch(/unknown backend "google"/);
    // Only the enabled backends are asked.
    const onlyArxiv = await activities({ LAB_LITERATURE_BACKENDS: 'arxiv' }).searchLiterature({ queries: ['conformal'], perQuery: 2 });
    expect(onlyArxiv.backends.map((b) => b.name)).toEqual(['arxiv']);
    expect(servers.count('s2') + servers.count('openalex')).toBe(0);
  });

  it('requests to one backend keep the configured gap, across concurrent activities', async () => {
    const acts = activities({ LAB_ARXIV_MIN_INTERVAL_MS: '250', LAB_LITERATURE_BACKENDS: 'arxiv' });
    await Promise.all([acts.searchLiterature({ queries: ['calibration', 'conformal'], perQuery: 1 }), acts.searchLiterature({ queries: ['ensembles'], perQuery: 1 })]);
    const times = servers.requests.map((r) => r.at);
    expect(times).toHaveLength(3);
    for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(240);

    const limiter = new MinIntervalLimiter(100);
    const starts: number[] = [];
    await Promise.all([1, 2, 3].map(() => limiter.run(async () => void starts.push(Date.now()))));
    expect(starts[2] - starts[0]).toBeGreaterThanOrEqual(190);
  });
});

describe('literaturePreflight', () => {
  it('is empty when every backend answers, and names each one that does not', async () => {
    expect(await activities().literaturePreflight()).toEqual([]);
    const arxivUrl = await refusedUrl('/api/query');
    const openAlexUrl = await refusedUrl();
    const messages = await activities({ LAB_ARXIV_URL: arxivUrl, LAB_OPENALEX_URL: openAlexUrl }).literaturePreflight();
    expect(messages).toEqual([
      `arXiv (${arxivUrl}) did not answer: cannot reach ${new URL(arxivUrl).origin}: connection refused (ECONNREFUSED)`,
      `OpenAlex (${openAlexUrl}) did not answer: cannot reach ${new URL(openAlexUrl).origin}: connection refused (ECONNREFUSED)`,
    ]);
    servers.fail('s2', { status: 500 });
    expect(await activities({ LAB_LITERATURE_BACKENDS: 'semantic_scholar' }).literaturePreflight()).toEqual([
      expect.stringMatching(/^Semantic Scholar \(http:\/\/127\.0\.0\.1:\d+\/graph\/v1\) did not answer: server error 500/),
    ]);
    // A 429 burst is an answer; a spent quota is not.
    servers.fail('openalex', { status: 429, headers: { 'retry-after': '1' } });
    expect(await activities({ LAB_LITERATURE_BACKENDS: 'openalex' }).literaturePreflight()).toEqual([]);
    servers.fail('openalex', { status: 429, headers: { 'retry-after': '36000' } });
    expect(await activities({ LAB_LITERATURE_BACKENDS: 'openalex' }).literaturePreflight()).toEqual([expect.stringMatching(/OpenAlex .* rate limited \(429\), retry after 36000s/)]);
    expect(await activities({ LAB_ARXIV_MIN_INTERVAL_MS: 'soon' }).literaturePreflight()).toEqual([expect.stringMatching(/LAB_ARXIV_MIN_INTERVAL_MS must be a number/)]);
  });
});

describe('citations in a document', () => {
  const doc = `# Related work

Post-hoc calibration was benchmarked under shift [arXiv:2409.90001](https://arxiv.org/abs/2409.90001), and
ensembles help on tabular data (DOI:10.5555/icd.2023.42). See also [He et al., 2024](https://arxiv.org/abs/2402.90004v2)
and [Weighted conformal prediction for shifted test distributions](https://arxiv.org/abs/2305.90003).

\`\`\`python
# arXiv:1111.11111 in code is not a citation
\`\`\`

## References

1. Castellanos, M., Adebayo, J.-h., Lindqvist, T. (2024). *Calibration under distribution shift: a benchmark of post-hoc methods*. [arXiv:2409.90001](https://arxiv.org/abs/2409.90001). DOI:10.5555/timl.2024.0117
2. Achterberg, R., Ferreira-Lund, K. (2023). Ensembles and Calibration Under Distribution Shift in Tabular Data. Proceedings of the Invented Conference on Data. https://doi.org/10.5555/icd.2023.42.
3. "Label shift estimation via black-box predictors: a second look" — Oyelowo & Halvorsen, S2:${fakeIds.s2(byDoi('10.5555/jmus.2022.7'))}
4. Marchetti, I. (2024). *Temperature Scaling for Everything: A Unified View*. arXiv:2410.90002
5. Nobody, A. (2025). *A Paper That Does Not Exist*. arXiv:2409.99999
6. Smith, J. (2021). Some Workshop Talk Without An Identifier. Invented Workshop.

## Appendix

arXiv:2308.90006 is mentioned here too.
`;

  it('parses ids, links and reference entries, with the best title source for each work', () => {
    const refs = parseReferencesJson(JSON.stringify([{ id: 'arXiv:2308.90006', title: 'Sparse $\\ell_1$ Recalibration & Focal Losses for Robust Classifiers', source: 'arxiv' }, { nope: 1 }]));
    const citations = parseCitations(doc, refs);
    expect(citations.map((c) => c.id ?? null)).toEqual([
      'arXiv:2409.90001',
      'DOI:10.5555/icd.2023.42',
      'arXiv:2402.90004',
      'arXiv:2305.90003',
      `S2:${fakeIds.s2(byDoi('10.5555/jmus.2022.7'))}`,
      'arXiv:2410.90002',
      'arXiv:2409.99999',
      'arXiv:2308.90006',
      null,
    ]);
    expect(citations[0]).toMatchObject({ otherIds: ['DOI:10.5555/timl.2024.0117'], title: 'Calibration under distribution shift: a benchmark of post-hoc methods' });
    expect(citations[1].title).toBeUndefined();
    expect(citations[1].text).toMatch(/^Achterberg, R\., Ferreira-Lund, K\. \(2023\)\. Ensembles and Calibration/);
    expect(citations[2].title).toBeUndefined(); // author-year link text is not a title
    expect(citations[3].title).toBe('Weighted conformal prediction for shifted test distributions');
    expect(citations[4].title).toBe('Label shift estimation via black-box predictors: a second look');
    expect(citations[7].title).toBe('Sparse $\\ell_1$ Recalibration & Focal Losses for Robust Classifiers'); // from references.json
    expect(citations[8]).toMatchObject({ text: 'Smith, J. (2021). Some Workshop Talk Without An Identifier. Invented Workshop' });
    expect(findPaperIds('see https://doi.org/10.1000/xyz(2020)01). and arxiv.org/pdf/2101.00001v3.pdf').map((i) => i.canonical)).toEqual([
      'DOI:10.1000/xyz(2020)01',
      'arXiv:2101.00001',
    ]);
    expect(parsePaperId('https://doi.org/10.48550/arXiv.2101.00001')?.canonical).toBe('arXiv:2101.00001');
  });

  it(`titles match at Dice >= ${TITLE_MATCH_THRESHOLD} of normalised words: variants pass, invented titles fail`, () => {
    const record = 'LoRA: Low-Rank Adaptation of Large Language Models';
    const same: Array<[string, string]> = [
      [record, 'Low-rank adaptation of large language models'],
      ['Attention Is All You Need', 'attention is all you need.'],
      ['Pre-training of Deep Bidirectional Transformers', 'Pretraining of deep bidirectional transformers'],
      ['Sparse $\\ell_1$ Recalibration & Focal Losses', 'Sparse ℓ1 recalibration and focal loss'.replace('ℓ', 'ell ')],
      ['Équivariance in Réseaux Neuronaux', 'Equivariance in reseaux neuronaux'],
      ['A Survey of Large Language Models', 'Survey of Large Language Models'],
      ['\\emph{Optimal} $\\alpha$-Divergence Bounds', 'Optimal α-divergence bounds'],
    ];
    for (const [a, b] of same) expect([a, b, titleSimilarity(a, b)]).toEqual([a, b, expect.toSatisfy((s: number) => s >= TITLE_MATCH_THRESHOLD)]);
    const different: Array<[string, string]> = [
      ['Calibration Under Distribution Shift: A Benchmark of Post-hoc Methods', 'Calibration Methods for Large Language Models Under Shift'],
      ['Temperature Scaling under Covariate Shift — a Reappraisal', 'Temperature Scaling for Everything: A Unified View'],
      ['Attention Is All You Need', 'Attention mechanisms for all sequence tasks you need'],
    ];
    for (const [a, b] of different) expect([a, b, titleSimilarity(a, b)]).toEqual([a, b, expect.toSatisfy((s: number) => s < TITLE_MATCH_THRESHOLD)]);
    // A whole reference entry: the title is found among its pieces, whatever the style.
    expect(matchTitle({ text: 'Vaswani, A. et al. (2017). Attention is all you need. NeurIPS' }, 'Attention Is All You Need').match).toBe(true);
    expect(matchTitle({ text: 'Sparse, Dense, and Attentional Representations for Text Retrieval, Luan et al., TACL 2021' }, 'Sparse, Dense, and Attentional Representations for Text Retrieval').match).toBe(true);
    // Three words of eight dropped is no longer the title as written.
    expect(matchTitle({ text: 'Sparse, Dense, and Attentional Representations, Luan et al., TACL 2021' }, 'Sparse, Dense, and Attentional Representations for Text Retrieval').match).toBe(false);
    expect(matchTitle({ text: 'Vaswani et al. Attention mechanisms for all sequence tasks you need. NeurIPS 2017' }, 'Attention Is All You Need').match).toBe(false);
  });

  it('resolveCitations verifies real citations and flags fabricated ones (unknown id, real id with a wrong title, no id)', async () => {
    const acts = activities();
    const citations = [...parseCitations(doc), { id: 'arXiv:not-an-id' }];
    const report = await acts.resolveCitations({ citations });
    citationReportSchema.parse(report);
    expect(report.verifiedIds).toEqual([
      'arXiv:2409.90001',
      'DOI:10.5555/icd.2023.42',
      'arXiv:2402.90004',
      'arXiv:2305.90003',
      `S2:${fakeIds.s2(byDoi('10.5555/jmus.2022.7'))}`,
      'arXiv:2308.90006',
    ]);
    expect(report.flagged).toEqual([
      {
        id: 'arXiv:2410.90002',
        title: 'Temperature Scaling for Everything: A Unified View',
        reason: 'title_mismatch',
        detail: expect.stringMatching(/^arXiv has "Temperature Scaling under Covariate Shift — a Reappraisal" \(similarity 0\.\d\d < 0\.8\)$/),
      },
      { id: 'arXiv:2409.99999', title: 'A Paper That Does Not Exist', reason: 'not_found', detail: 'no such paper on arXiv' },
      { title: 'Smith, J. (2021). Some Workshop Talk Without An Identifier. Invented Workshop', reason: 'no_id', detail: expect.any(String) },
      { id: 'arXiv:not-an-id', reason: 'not_found', detail: 'not a valid arXiv id, DOI, S2 or OpenAlex id' },
    ]);
    expect(report).toMatchObject({ checked: 10, verified: 6 });
    expect(formatCitationSummary(report)).toBe('citations: 6 verified, 4 flagged (1 title mismatch, 2 not found, 1 no id)');
    // arXiv ids on arXiv, the DOI on OpenAlex, the S2 id on S2: nothing else was asked.
    expect(servers.count('arxiv', 'lookup')).toBe(6);
    expect(servers.count('openalex', 'lookup')).toBe(1);
    expect(servers.count('s2', 'lookup')).toBe(1);

    // Checked again (a retried or resumed run): all from the cache.
    const before = servers.count();
    expect(await acts.resolveCitations({ citations })).toEqual(report);
    expect(servers.count()).toBe(before);
  });

  it('falls back to other backends when the first is offline, and says unverifiable when none answers', async () => {
    const deadArxiv = await refusedUrl('/api/query');
    const fallback = await activities({ LAB_ARXIV_URL: deadArxiv }).resolveCitations({
      citations: [{ id: 'arXiv:2409.90001', title: 'Calibration Under Distribution Shift: A Benchmark of Post-hoc Methods' }, { id: 'arXiv:2411.90005' }],
    });
    // 2409.90001 is on S2; 2411.90005 only on arXiv: S2 and OpenAlex have no such paper, arXiv did not answer.
    expect(fallback.verifiedIds).toEqual(['arXiv:2409.90001']);
    expect(fallback.flagged).toEqual([
      { id: 'arXiv:2411.90005', reason: 'unverifiable_offline', detail: expect.stringMatching(/^arXiv: cannot reach .*connection refused.*; not on Semantic Scholar, OpenAlex$/) },
    ]);

    const offline = { LAB_ARXIV_URL: deadArxiv, LAB_SEMANTIC_SCHOLAR_URL: await refusedUrl('/graph/v1'), LAB_OPENALEX_URL: await refusedUrl() };
    // A fresh cache: the look-ups above are remembered (as they should be for a resumed run).
    const report = await activities(offline, { cacheDir: tempDir('literature-cache') }).resolveCitations({ citations: parseCitations(doc) });
    expect(report.verified).toBe(0);
    expect(report.flagged.map((f) => f.reason)).toEqual([...Array(8).fill('unverifiable_offline'), 'no_id']);
    expect(formatCitationSummary(report)).toBe('citations: 0 verified, 9 flagged (8 unverifiable offline, 1 no id)');
  });

  it('a rate-limited look-up is retried by Temporal (nextRetryDelay), then reported on the last attempt', async () => {
    // 2411.90005 is only on arXiv (S2 and OpenAlex answer "no such paper"), and arXiv says 429.
    servers.fail('arxiv', { status: 429, headers: { 'retry-after': '3' } }, { status: 429, headers: { 'retry-after': '3' } });
    const citations = [{ id: 'arXiv:2411.90005' }, { id: 'arXiv:2303.90008' }];
    const failure = await failureOf(activities().resolveCitations({ citations }));
    expect(failure).toMatchObject({ type: LITERATURE_ERROR_TYPES.rateLimited, nextRetryDelay: 3000 });
    expect(failure.message).toMatch(/^arXiv: rate limited \(429\), retry after 3s/);
    // The last attempt answers: arXiv still refuses; 2303.90008 is verified on Semantic Scholar instead.
    const last = await activities({}, { attempt: () => ({ attempt: 4 }) }).resolveCitations({ citations });
    expect(last.verifiedIds).toEqual(['arXiv:2303.90008']);
    expect(last.flagged).toEqual([{ id: 'arXiv:2411.90005', reason: 'unverifiable_offline', detail: expect.stringMatching(/^arXiv: rate limited \(429\).*; not on Semantic Scholar, OpenAlex$/) }]);
    // Once arXiv answers, it is verified, and nothing answered before is asked again.
    const before = servers.count();
    expect((await activities().resolveCitations({ citations })).verified).toBe(2);
    expect(servers.requests.slice(before).map((r) => r.api)).toEqual(['arxiv']);
  });
});

describe('through a real Temporal worker', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createDevServerEnv();
  });
  afterAll(() => env?.teardown());

  it('a 429 burst is retried after its Retry-After and the run completes; answers already received are not asked again', async () => {
    // A workflow written for this test only, bundled from a temp folder (resolving packages from the project).
    const dir = tempDir('literature-wf');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      path.join(dir, 'workflows.js'),
      `import { proxyActivities } from '@temporalio/workflow';
const { searchLiterature } = proxyActivities({ startToCloseTimeout: '30s', retry: { initialInterval: '100ms', maximumAttempts: 6 } });
export async function literatureProbe(input) { return searchLiterature(input); }
`,
    );
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: path.join(dir, 'workflows.js'),
      logger: new DefaultLogger('WARN'),
      webpackConfigHook: (config) => ({ ...config, resolve: { ...config.resolve, modules: [path.join(PROJECT_ROOT, 'node_modules'), 'node_modules'] } }),
    });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? 'default',
      taskQueue: 'literature',
      workflowBundle,
      activities: createLiteratureActivities({ env: servers.env(), cacheDir }),
    });
    servers.fail('s2', { status: 429, headers: { 'retry-after': '2' } }, { status: 429, headers: { 'retry-after': '2' } });
    const workflowId = `literature-429-${Date.now()}`;
    const result = await worker.runUntil(
      env.client.workflow.execute('literatureProbe', { taskQueue: 'literature', workflowId, args: [{ queries: ['conformal prediction'], perQuery: 3 }] }),
    );
    expect(result.records.map((r: { id: string }) => r.id)).toEqual(['arXiv:2305.90003']);
    expect(result.backends.every((b: { ok: boolean }) => b.ok)).toBe(true);
    const s2Times = servers.requests.filter((r) => r.api === 's2').map((r) => r.at);
    expect(s2Times).toHaveLength(3);
    // Temporal waited the server's 2 s each time, not its own 100 ms initial interval.
    expect(s2Times[1] - s2Times[0]).toBeGreaterThanOrEqual(1900);
    expect(s2Times[2] - s2Times[1]).toBeGreaterThanOrEqual(1900);
    expect(servers.count('arxiv')).toBe(1);
    expect(servers.count('openalex')).toBe(1);
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    const started = history.events!.filter((e) => e.activityTaskStartedEventAttributes).map((e) => e.activityTaskStartedEventAttributes!);
    expect(started.map((s) => s.attempt)).toEqual([3]);
    expect(started[0].lastFailure?.applicationFailureInfo?.type).toBe(LITERATURE_ERROR_TYPES.rateLimited);
  });
});
