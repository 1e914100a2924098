/**
 * The literature stage's LLM steps (on the model's LLM queue): derive search queries from the
 * idea; then rank the retrieved records by their abstracts and write the review from the kept
 * records only. The reference list is built from the records, never typed by the model, and a
 * citation of anything not retrieved is removed and counted. With nothing retrieved, the review
 * says so and cites nothing, without calling the model.
 */
import { Context } from '@temporalio/activity';
import { z } from 'zod';
import type { ArtifactRef, Budget, StageOutcome } from '../../common/schemas.js';
import { ZERO_USAGE } from '../../common/schemas.js';
import { budgetAfter } from '../../common/budget.js';
import type { ArtifactStore } from '../artifacts.js';
import { withHeartbeat } from '../heartbeat.js';
import type { LlmCall, LlmGateway } from '../llm/gateway.js';
import type { BackendStatus } from '../literature/runActivities.js';
import type { PaperRecord } from '../literature/types.js';
import { callRecords, usageOfCalls } from '../llm/usage.js';

interface LiteratureStepInput {
  runId: string;
  model: string;
  reasoningEffort?: 'low' | 'medium' | 'high';
  task: ArtifactRef;
  idea: ArtifactRef;
  revision?: { feedback: string; previous: ArtifactRef; number: number };
  budgetLeft?: Budget;
}

const MAX_KEPT = 15;
const SYSTEM = 'You are a careful machine-learning researcher. You only cite papers you are given, by their ids.';

export const QUERY_PROMPT_START = 'Choose literature search queries';
export const RANK_PROMPT_START = 'Rank the retrieved papers';
export const WRITE_PROMPT_START = 'Write a literature review';

const queriesSchema = z.object({ queries: z.array(z.string().min(2).max(120)).min(1).max(5) });
const rankingSchema = z.object({ selected: z.array(z.object({ id: z.string(), why: z.string().max(300) })).max(30) });

export function createLiteratureStageActivities({ store, llm }: { store: ArtifactStore; llm: LlmGateway }) {
  const revisionKey = (input: LiteratureStepInput) => `${input.runId}/literature/revision-${input.revision?.number ?? 0}`;
  return {
    async planLiteratureSearch(input: LiteratureStepInput): Promise<{ queries: string[]; outcome: Pick<StageOutcome, 'usage' | 'calls' | 'model'> }> {
      const idea = await store.getText(input.idea);
      const feedback = input.revision ? `\n\nReviewer feedback on the previous review, to take into account:\n${input.revision.feedback}` : '';
      const prompt =
        `${QUERY_PROMPT_START} for the research idea below: 2 to 5 queries of 2 to 5 keywords each (arXiv matches every keyword), ` +
        `covering the method, the problem, and the closest prior work.${feedback}\n\n# Research idea\n\n${idea}`;
      // Heartbeats while the model answers: without them a reply slower than the heartbeat timeout
      // had the activity retried beside the live attempt, and the call paid twice (chaos test).
      const result = await withHeartbeat(
        () =>
          llm.completeJson(
            { model: input.model, system: SYSTEM, prompt, maxTokens: 400, reasoningEffort: input.reasoningEffort, budgetLeft: input.budgetLeft, cacheKey: `${revisionKey(input)}/queries` },
            queriesSchema,
            'search_queries',
          ),
        () => ({ stage: 'literature' }),
      );
      return { queries: [...new Set(result.value.queries.map((q) => q.trim()))], outcome: outcomeOf(result.calls, input.model) };
    },

    async writeRelatedWork(input: LiteratureStepInput & { candidates: ArtifactRef; backends: BackendStatus[] }): Promise<StageOutcome> {
      const ctx = Context.current();
      const records = JSON.parse(await store.getText(input.candidates)) as PaperRecord[];
      if (!records.length) return writeNothingFound(store, input);

      const idea = await store.getText(input.idea);
      const byId = new Map(records.map((r) => [r.id, r]));
      const list = records.map((r) => `- id: ${r.id}\n  title: ${r.title}\n  year: ${r.year ?? '?'}\n  abstract: ${(r.abstract ?? '(none)').slice(0, 600)}`).join('\n');
      const rankPrompt = `${RANK_PROMPT_START} below by how closely they relate to the research idea; keep at most ${MAX_KEPT} that are truly relevant (fewer is fine), using only ids from the list.\n\n# Research idea\n\n${idea}\n\n# Retrieved papers\n\n${list}`;
      const ranked = await withHeartbeat(
        () =>
          llm.completeJson(
            { model: input.model, system: SYSTEM, prompt: rankPrompt, maxTokens: 1500, reasoningEffort: input.reasoningEffort, budgetLeft: input.budgetLeft, cacheKey: `${revisionKey(input)}/rank` },
            rankingSchema,
            'ranking',
          ),
        () => ({ stage: 'literature' }),
      );
      const kept = [...new Set(ranked.value.selected.map((s) => s.id))].map((id) => byId.get(id)).filter((r): r is PaperRecord => Boolean(r)).slice(0, MAX_KEPT);
      const usedSoFar = usageOfCalls(ranked.calls);
      const left = budgetAfter(input.budgetLeft, usedSoFar);

      const keptList = kept.map((r) => `- [${r.id}](${r.url}) ${r.title} (${r.authors.slice(0, 3).join(', ')}${r.authors.length > 3 ? ' et al.' : ''}, ${r.year ?? 'n.d.'}): ${(r.abstract ?? '').slice(0, 800)}`).join('\n');
      const revision = input.revision ? `\n\n# Your previous version\n\n${await store.getText(input.revision.previous)}\n\n# Reviewer feedback: address all of it\n\n${input.revision.feedback}` : '';
      const writePrompt =
        `${WRITE_PROMPT_START} for the research idea below, using ONLY the papers listed (found by literature search). ` +
        'Cite each paper you discuss as [id](url) exactly as listed; cite nothing else and invent no paper. ' +
        'Group the work by theme, say how each relates to the idea, and end with "## Key Challenges": at most 5 open challenges. ' +
        `Do not write a reference list: it is added from the records.\n\n# Research idea\n\n${idea}\n\n# Papers found\n\n${keptList || '(none of the retrieved papers was relevant)'}${revision}`;
      let outputTokens = 0;
      const written = await withHeartbeat(
        () =>
          llm.completeInFull(
            { model: input.model, system: SYSTEM, prompt: writePrompt, maxTokens: 3000, reasoningEffort: input.reasoningEffort, budgetLeft: left, cacheKey: `${revisionKey(input)}/write`, signal: ctx.cancellationSignal, onProgress: (n) => (outputTokens = n) },
            { maxContinuations: 3, raise: [] },
          ),
        () => ({ stage: 'literature', outputTokens }),
      );
      const { text: body, removed } = keepRetrievedCitations(written.text.trim(), new Set(kept.map((r) => r.id)));
      const calls = [...ranked.calls, ...written.calls];
      const model = written.calls[0]?.model ?? input.model;
      const document = [
        `> Written by model \`${model}\` (spec \`${input.model}\`) for the literature stage of run \`${input.runId}\`${input.revision ? `, revision ${input.revision.number}` : ''}, from ${records.length} records retrieved by ${searchedBy(input.backends)}; the reference list below is built from those records.`,
        '',
        body,
        '',
        '## References',
        '',
        ...(kept.length ? kept.map((r) => `- ${r.authors.slice(0, 6).join(', ')}${r.authors.length > 6 ? ' et al.' : ''} (${r.year ?? 'n.d.'}). *${r.title}*. [${r.id}](${r.url})`) : ['(none)']),
        ...(removed ? ['', `> ${removed} citation(s) of works that were not retrieved were removed from the text above.`] : []),
        '',
      ].join('\n');
      const artifact = await store.put(input.runId, 'related_work.md', document);
      const references = await store.put(input.runId, 'references.json', `${JSON.stringify(kept, null, 2)}\n`, 'application/json');
      return {
        artifact,
        extra: [references, input.candidates],
        usage: usageOfCalls(calls),
        model,
        calls: callRecords(calls),
        checks: { literature: { retrieved: records.length, cited: kept.length, backends: input.backends } },
      };
    },
  };
}

export type LiteratureStageActivities = ReturnType<typeof createLiteratureStageActivities>;

/** No backend answered, or none found anything: an honest review that cites nothing. */
async function writeNothingFound(store: ArtifactStore, input: LiteratureStepInput & { backends: BackendStatus[] }): Promise<StageOutcome> {
  const why = input.backends.map((b) => `- ${b.name}: ${b.ok ? 'answered, found nothing' : `unreachable (${b.error ?? 'no answer'})`}`).join('\n');
  const document = [
    `> Written by Durable Lab (no model) for the literature stage of run \`${input.runId}\`.`,
    '',
    '# Related work: not available',
    '',
    'No literature search backend returned any paper for this idea, so this review cites nothing rather than invent papers.',
    'Later stages must not cite related work either. Backends:',
    '',
    why || '- none enabled (LAB_LITERATURE_BACKENDS)',
    '',
  ].join('\n');
  const artifact = await store.put(input.runId, 'related_work.md', document);
  const references = await store.put(input.runId, 'references.json', '[]\n', 'application/json');
  return {
    artifact,
    extra: [references],
    usage: ZERO_USAGE,
    model: 'none',
    calls: [],
    checks: { literature: { retrieved: 0, cited: 0, backends: input.backends } },
  };
}

/** Removes links to ids that were not retrieved (the model's invention), keeping their text. */
export function keepRetrievedCitations(text: string, allowed: Set<string>): { text: string; removed: number } {
  let removed = 0;
  const out = text.replace(/\[((?:arXiv|DOI|S2|OpenAlex):[^\]\s]+)\]\([^)]*\)/gi, (m, id: string) => {
    if ([...allowed].some((a) => a.toLowerCase() === id.toLowerCase())) return m;
    removed++;
    return '[citation removed: not a retrieved paper]';
  });
  return { text: out, removed };
}

function searchedBy(backends: BackendStatus[]): string {
  const ok = backends.filter((b) => b.ok).map((b) => b.name);
  return ok.length ? ok.join(', ') : 'no backend';
}

function outcomeOf(calls: LlmCall[], model: string): Pick<StageOutcome, 'usage' | 'calls' | 'model'> {
  return { usage: usageOfCalls(calls), calls: callRecords(calls), model: calls[0]?.model ?? model };
}
