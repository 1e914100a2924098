/**
 * The stage activity: one research stage = load inputs from the artifact store, one LLM call
 * through the gateway (plus continuation calls while the reply stops at its output limit),
 * write the output back, return its reference and the usage. What differs by stage is in
 * ./hooks.ts; stages with several steps (literature, experiment) are orchestrated by the workflow.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { ArtifactRef, StageName, StageOutcome } from '../../common/schemas.js';
import { STAGE_OUTPUT_FILE } from '../../common/stages.js';
import type { ArtifactStore } from '../artifacts.js';
import { withHeartbeat } from '../heartbeat.js';
import { configError } from '../llm/errors.js';
import { DEFAULT_MAX_CONTINUATIONS, type LlmCall, type LlmGateway } from '../llm/gateway.js';
import { callRecords, usageOfCalls } from '../llm/usage.js';
import { STAGE_HOOKS } from './hooks.js';
import { isEmbeddedModel } from '../../common/modelSpec.js';
import type { StageActivityInput } from '../types.js';
import { closingInstruction, EMBEDDED_STAGE_MAX_TOKENS, STAGE_MAX_TOKENS, stagePrompt } from './prompts.js';

export interface StageDeps {
  store: ArtifactStore;
  llm: LlmGateway;
}

export function createStageActivities({ store, llm }: StageDeps) {
  return {
    async runStage(input: StageActivityInput): Promise<StageOutcome> {
      const ctx = Context.current();
      const task = await readOrFail(store, input.task.ref, 'task');
      const inputs: Partial<Record<StageName, string>> = {};
      for (const [name, ref] of Object.entries(input.inputs) as Array<[StageName, ArtifactRef]>) {
        inputs[name] = await readOrFail(store, ref, name);
      }
      const revision = input.revision
        ? { ...input.revision, previous: await readOrFail(store, input.revision.previous, `previous ${input.stage}`) }
        : undefined;
      const hooks = STAGE_HOOKS[input.stage] ?? {};
      const base = stagePrompt(input.stage, { task, inputs, revision }, { short: isEmbeddedModel(input.model) });
      const extraPrompt = await hooks.extraPrompt?.(store, input);
      const { system } = base;
      const prompt = [base.prompt, extraPrompt, closingInstruction(input.stage)].filter(Boolean).join('\n\n---\n\n');
      ctx.log.info('stage started', { stage: input.stage, model: input.model, revision: revision?.number ?? 0 });

      let outputTokens = 0;
      const limits = outputLimits(input.stage, input.model);
      // A reply cut short at the output limit is continued, never stored as a finished stage:
      // the gateway throws OutputTruncated (or BudgetExhausted) instead.
      const result = await withHeartbeat(
        () =>
          llm.completeInFull(
            {
              model: input.model,
              system,
              prompt,
              maxTokens: limits.maxTokens,
              reasoningEffort: input.reasoningEffort,
              budgetLeft: input.budgetLeft,
              cacheKey: `${input.runId}/${input.stage}/revision-${revision?.number ?? 0}`,
              signal: ctx.cancellationSignal,
              onProgress: (n) => (outputTokens = n),
            },
            { maxContinuations: limits.maxContinuations, raise: limits.raise },
          ),
        () => ({ stage: input.stage, outputTokens }),
      );
      const [call] = result.calls;
      const body = result.text.trim();
      if (!body) {
        throw ApplicationFailure.retryable(`${call.model} returned an empty ${input.stage}`, 'BadModelOutput');
      }
      const withHeader = (text: string) => withProvenance(text, input, call);
      const finished = hooks.finish ? await hooks.finish(store, input, body, withHeader) : { document: withHeader(body), extra: [] };
      const artifact = await store.put(input.runId, STAGE_OUTPUT_FILE[input.stage], finished.document);
      const usage = usageOfCalls(result.calls);
      ctx.log.info('stage finished', { stage: input.stage, bytes: artifact.bytes, ...usage });
      return { artifact, extra: finished.extra, usage, model: call.model, calls: callRecords(result.calls), ...(finished.checks ? { checks: finished.checks } : {}) };
    },
  };
}

export type StageActivities = ReturnType<typeof createStageActivities>;

/** Output tokens per call, continuations allowed, and the settings an OutputTruncated failure names. */
export function outputLimits(stage: StageName, model: string, env: NodeJS.ProcessEnv = process.env): { maxTokens: number; maxContinuations: number; raise: string[] } {
  const cap = STAGE_MAX_TOKENS[stage];
  const maxContinuations = countFromEnv(env, 'LAB_LLM_MAX_CONTINUATIONS', DEFAULT_MAX_CONTINUATIONS);
  if (!isEmbeddedModel(model)) return { maxTokens: cap, maxContinuations, raise: [] };
  const embeddedCap = countFromEnv(env, 'LAB_EMBEDDED_MAX_TOKENS', EMBEDDED_STAGE_MAX_TOKENS[stage], 1);
  if (embeddedCap >= cap) return { maxTokens: cap, maxContinuations, raise: [] };
  return { maxTokens: embeddedCap, maxContinuations, raise: [`LAB_EMBEDDED_MAX_TOKENS (${embeddedCap} now)`] };
}

/** A whole number from the environment, at least `min`; a bad value is a config error naming the variable. */
function countFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw configError(`${name} must be a whole number of ${min} or more, not "${raw}"`);
  return value;
}

async function readOrFail(store: ArtifactStore, ref: ArtifactRef, what: string): Promise<string> {
  try {
    return await store.getText(ref);
  } catch (err) {
    // A missing or corrupt input will not heal by retrying.
    throw ApplicationFailure.nonRetryable(`cannot read the ${what} artifact ${ref.path}: ${(err as Error).message}`, 'InvalidInput');
  }
}

/** Every artifact says which model wrote it, so a weak model's output is never mistaken for a strong one's. */
function withProvenance(text: string, input: StageActivityInput, call: LlmCall): string {
  const revision = input.revision ? `, revision ${input.revision.number}` : '';
  return `> Written by model \`${call.model}\` (spec \`${input.model}\`) for the ${input.stage} stage of run \`${input.runId}\`${revision}.\n\n${text}\n`;
}
