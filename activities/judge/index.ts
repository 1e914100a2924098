/**
 * The judge activities (MLR-Judge): collect a folder's documents into the store (research queue),
 * have one judge score them on a kind's rubric (the judge's LLM queue), and store the review's
 * summary. A judge's answer is validated against its rubric by the gateway, which re-asks once;
 * an answer still invalid fails for good (InvalidJudgeAnswer), naming the judge and the problem,
 * with what the judge's calls cost in the failure's details.
 *
 * Each review writes into its own attempt folder (`reviews/<kind>/attempts/<attempt>/`); only a
 * completed review is copied to `reviews/<kind>/summary.json`, so a failed re-judge never replaces
 * a good review.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { INVALID_JUDGE_ANSWER, LLM_ERROR_TYPES } from '../../common/errorTypes.js';
import { isEmbeddedJudge, UNCALIBRATED_NOTE } from '../../common/judgeCalibration.js';
import { judgeSlug, reviewAttemptName, type JudgeFailureDetails, type JudgeVerdict, type ReviewDocumentName, type ReviewDocuments, type ReviewKind, type ReviewResult } from '../../common/reviews.js';
import type { ArtifactRef, Budget } from '../../common/schemas.js';
import type { ArtifactStore } from '../artifacts.js';
import { withHeartbeat } from '../heartbeat.js';
import { configError } from '../llm/errors.js';
import type { LlmCall, LlmGateway, LlmResult } from '../llm/gateway.js';
import { recordingCalls } from '../llm/callLedger.js';
import { usageOfCalls } from '../llm/usage.js';
import { withIntegrityEvidence } from './integrityEvidence.js';
import { uploadsCacheDir } from '../config.js';
import { insideFolder, materializeUpload, UploadError } from '../uploads.js';
import { collectFolderDocuments, missingDocuments, missingDocumentsMessage, type FolderFiles } from './documents.js';
import { judgePrompt, type JudgeMaterial, type NamedText } from './prompt.js';
import { answerHasHallucination, answerSchema, answerScores, loadRubric, reviewFolder, RubricError, showsCode, type JudgeAnswer, type Rubric } from './rubrics.js';

/** Output tokens a judge may use: MLR-Bench answers run to ~2,000; reasoning models think within the same limit. */
export const JUDGE_MAX_TOKENS = 8_000;

/**
 * The embedded model's context (8,192 tokens by default) holds prompt and answer together: asking
 * for 8,000 output tokens would leave the prompt ~130 tokens, so the judge would never see the rubric
 * or the documents. Its answer needs ~1,000.
 */
export function judgeMaxTokens(judge: string, env: NodeJS.ProcessEnv = process.env): number {
  if (!/^embedded(:|$)/.test(judge.trim())) return JUDGE_MAX_TOKENS;
  const configured = Number(env.LAB_EMBEDDED_JUDGE_MAX_TOKENS ?? 1536);
  return Number.isInteger(configured) && configured > 0 ? Math.min(configured, JUDGE_MAX_TOKENS) : 1536;
}

export interface JudgeDeps {
  store: ArtifactStore;
  llm: LlmGateway;
}

type FolderSubject = { source: 'folder'; path: string; files?: FolderFiles; upload?: ArtifactRef; name?: string };

export interface CollectReviewDocumentsInput {
  reviewId: string;
  /** Where the documents are stored (default: the review id). */
  storeId?: string;
  subject: FolderSubject;
  /** The hallucination check also gets the integrity check's findings on the folder, as a run's paper carries them. */
  kind?: ReviewKind;
}

export interface JudgeReviewInput {
  reviewId: string;
  /** The run (or review) whose store folder holds the documents and receives the review. */
  storeId: string;
  kind: ReviewKind;
  /** For kinds whose code is optional (end_to_end, hallucination, mlrc): whether the judge sees it. */
  withCode: boolean;
  /** The judge's model spec. */
  judge: string;
  documents: ReviewDocuments;
  budgetLeft?: Budget;
}

/**
 * Why the gateway gave up on a judge's answer: `answer out of range` when the JSON was valid but
 * a score fell outside its scale, `answer does not match the rubric` for other schema problems,
 * `no valid JSON` when the reply did not parse; and the gateway's detail.
 */
export function invalidAnswerReason(gatewayMessage: string): { problem: string; detail: string } {
  const detail = /returned invalid JSON twice \(([\s\S]*)\)\s*$/.exec(gatewayMessage)?.[1] ?? gatewayMessage;
  if (/^not parseable JSON/.test(detail)) return { problem: 'no valid JSON', detail };
  const outOfRange = detail.split('; ').every((issue) => /: Too (big|small): expected number/.test(issue));
  return { problem: outOfRange ? 'answer out of range' : 'answer does not match the rubric', detail };
}

/** `reviews/<kind>[-no-code]/attempts/<attempt>`: where one review writes its judges' answers and summary. */
function attemptFolder(rubric: Rubric, withCode: boolean, storeId: string, reviewId: string): string {
  return `${reviewFolder(rubric, withCode)}/attempts/${reviewAttemptName(storeId, reviewId)}`;
}

const DOCUMENT_NAMES: ReviewDocumentName[] = ['task', 'idea', 'related_work', 'proposal', 'results', 'log', 'paper'];

function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, LLM_ERROR_TYPES.invalid);
}

function rubricOf(kind: ReviewKind): Rubric {
  try {
    return loadRubric(kind);
  } catch (err) {
    // A broken or missing rubric file is fixed by editing it, not by retrying.
    if (err instanceof RubricError) throw configError(err.message);
    throw err;
  }
}

/** The subject's folder on this worker: rebuilt from the store when the CLI uploaded it, else the path as given. */
async function subjectFolder(store: ArtifactStore, subject: FolderSubject): Promise<string> {
  if (!subject.upload) return subject.path;
  try {
    return insideFolder(await materializeUpload(store, subject.upload, uploadsCacheDir()), subject.path);
  } catch (err) {
    // A manifest that is not there or not valid will not appear by retrying.
    if (err instanceof UploadError || (err as NodeJS.ErrnoException).code === 'ENOENT') throw invalidInput(`the uploaded folder ${subject.name ?? subject.path}: ${(err as Error).message}`);
    throw err;
  }
}

export function createJudgeActivities({ store, llm }: JudgeDeps) {
  return {
    async collectReviewDocuments(input: CollectReviewDocumentsInput): Promise<ReviewDocuments> {
      if (input.subject.source !== 'folder') throw invalidInput(`collectReviewDocuments reads folders, not a "${String(input.subject.source)}" subject`);
      const storeId = input.storeId ?? input.reviewId;
      const folder = await subjectFolder(store, input.subject);
      const docs = await collectFolderDocuments(store, storeId, folder, input.subject.files);
      return input.kind === 'hallucination' ? withIntegrityEvidence(store, storeId, folder, docs) : docs;
    },

    async judgeReview(input: JudgeReviewInput): Promise<JudgeVerdict> {
      const ctx = Context.current();
      const rubric = rubricOf(input.kind);
      const missing = missingDocuments(input.kind, input.documents);
      if (missing.length) throw invalidInput(missingDocumentsMessage(input.kind, missing, 'the review subject'));

      const material = await readMaterial(store, rubric, input.documents, showsCode(rubric, input.withCode));
      const { system, prompt, cuts } = judgePrompt(rubric, material, { withCode: input.withCode });
      const slug = judgeSlug(input.judge);
      ctx.log.info('judge started', { kind: input.kind, judge: input.judge, rubric: rubric.version, promptChars: prompt.length, cuts: cuts.length });

      let outputTokens = 0;
      let result: LlmResult<JudgeAnswer>;
      const calls: LlmCall[] = [];
      try {
        result = await recordingCalls(llm, calls, () => withHeartbeat(
          () =>
            llm.completeJson(
              {
                model: input.judge,
                system,
                prompt,
                maxTokens: judgeMaxTokens(input.judge),
                budgetLeft: input.budgetLeft,
                // Same review, same judge: a retried activity reuses the answer it already paid for.
                cacheKey: `${input.reviewId}/${slug}`,
                signal: ctx.cancellationSignal,
                onProgress: (n) => (outputTokens = n),
              },
              answerSchema(rubric),
              'review',
            ),
          () => ({ kind: input.kind, judge: input.judge, outputTokens }),
        ));
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === LLM_ERROR_TYPES.badOutput) {
          // The calls were made and paid for: the review counts them though the judge failed.
          const { problem, detail } = invalidAnswerReason(err.message);
          const details: JudgeFailureDetails = { usage: usageOfCalls(calls), rubricVersion: rubric.version };
          throw ApplicationFailure.create({
            nonRetryable: true,
            type: INVALID_JUDGE_ANSWER,
            message: `judge ${input.judge}: ${problem} in its ${input.kind} review (rubric ${rubric.kind} ${rubric.version}), even when asked again: ${detail}`,
            details: [details],
          });
        }
        throw err;
      }

      const answer = result.value;
      const folder = attemptFolder(rubric, input.withCode, input.storeId, input.reviewId);
      const artifact = await store.put(input.storeId, `${folder}/${slug}.json`, `${JSON.stringify(answer, null, 2)}\n`, 'application/json');
      const scores = answerScores(rubric, answer);
      const hasHallucination = answerHasHallucination(rubric, answer);
      const usage = usageOfCalls(result.calls);
      ctx.log.info('judge finished', { kind: input.kind, judge: input.judge, ...scores, ...usage });
      const model = result.calls.at(-1)!.model;
      return {
        judge: input.judge,
        model,
        rubricVersion: rubric.version,
        scores,
        ...(rubric.overall ? { overall: scores[rubric.overall.name] } : {}),
        ...(hasHallucination !== undefined ? { hasHallucination } : {}),
        artifact,
        usage,
        // However it was asked for (embedded, embedded:<file>, auto on a worker without keys): an embedded judge is not calibrated.
        ...(isEmbeddedJudge(input.judge) || isEmbeddedJudge(model) ? { calibrated: false as const } : {}),
      };
    },

    /**
     * Stores the review's summary in its attempt folder and returns that; a completed review is
     * also copied to `reviews/<kind>/summary.json` (the latest good review). A failed one is kept
     * apart only, so a good review stays what readers see.
     */
    async writeReviewSummary(input: { storeId: string; result: ReviewResult }): Promise<ArtifactRef> {
      const { summary: _summary, ...given } = input.result;
      const rubric = rubricOf(given.kind);
      const withCode = given.withCode ?? true;
      const attempt = reviewAttemptName(input.storeId, given.reviewId);
      const result = { ...given, rubricVersion: given.rubricVersion === 'unknown' ? rubric.version : given.rubricVersion, attempt, ...uncalibratedMark(given) };
      const body = `${JSON.stringify(result, null, 2)}\n`;
      const ref = await store.put(input.storeId, `${attemptFolder(rubric, withCode, input.storeId, given.reviewId)}/summary.json`, body, 'application/json');
      if (result.status === 'completed') await store.put(input.storeId, `${reviewFolder(rubric, withCode)}/summary.json`, body, 'application/json');
      return ref;
    },
  };
}

export type JudgeActivities = ReturnType<typeof createJudgeActivities>;

/**
 * `calibrated: false` and the reason, for a review in which an embedded judge took part (a verdict
 * marked so, or an embedded judge among the failures); nothing for a review by provider models.
 */
export function uncalibratedMark(result: Pick<ReviewResult, 'verdicts' | 'failures'>): { calibrated: false; calibration: string } | Record<string, never> {
  const embedded = [...result.verdicts.filter((v) => v.calibrated === false || isEmbeddedJudge(v.judge) || isEmbeddedJudge(v.model)).map((v) => v.judge), ...result.failures.filter((f) => isEmbeddedJudge(f.judge)).map((f) => f.judge)];
  return embedded.length ? { calibrated: false, calibration: `${[...new Set(embedded)].join(', ')}: ${UNCALIBRATED_NOTE}` } : {};
}

/** The documents a rubric reads, from the store; the code only when shown; figures by name only. */
async function readMaterial(store: ArtifactStore, rubric: Rubric, documents: ReviewDocuments, withCode: boolean): Promise<JudgeMaterial> {
  const material: JudgeMaterial = { documents: {}, code: [], figures: [] };
  const read = async (ref: ArtifactRef, what: string): Promise<NamedText> => {
    try {
      return { name: displayName(ref), text: await store.getText(ref) };
    } catch (err) {
      // A missing or corrupt input will not heal by retrying.
      throw invalidInput(`cannot read the ${what} ${ref.path}: ${(err as Error).message}`);
    }
  };
  for (const name of DOCUMENT_NAMES) {
    const ref = documents[name];
    if (ref && rubric.reads.includes(name)) material.documents[name] = await read(ref, name);
  }
  if (rubric.reads.includes('code') && withCode) {
    for (const ref of documents.code ?? []) material.code.push(await read(ref, 'code file'));
  }
  if (rubric.reads.includes('figures')) material.figures = (documents.figures ?? []).map(displayName);
  return material;
}

/** A stored file's name as its author knew it: without the store's `runs/<id>/` and our `inputs/` folders. */
function displayName(ref: ArtifactRef): string {
  return ref.path.replace(/^runs\/[^/]+\//, '').replace(/^inputs\/(code\/|figures\/)?/, '');
}
