/**
 * One step of the experiment agent: record the previous step (with its observation), show the
 * model the task, the plan and a condensed history, and get its next action as validated JSON.
 * Runs on the model's LLM queue; the action itself runs on the sandbox queue.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { z } from 'zod';
import { envActionSchema, type EnvAction, type Observation } from '../../common/environment.js';
import type { ArtifactRef, Budget, LlmCallRecord, Usage } from '../../common/schemas.js';
import type { ArtifactStore } from '../artifacts.js';
import { withHeartbeat } from '../heartbeat.js';
import type { LlmCall, LlmGateway } from '../llm/gateway.js';
import { recordingCalls } from '../llm/callLedger.js';
import { LLM_ERROR_TYPES } from '../llm/errors.js';
import { budgetAfter } from '../../common/budget.js';
import { callRecords, usageOfCalls } from '../llm/usage.js';
import { isEmbeddedModel } from '../../common/modelSpec.js';
import { digest } from './digest.js';
import { nextStepHint, proseForCode, scriptToFix, withoutCodeFence } from './nextStep.js';
import { COMPETITION_BRIEF, EXPERIMENT_BRIEF, EXPERIMENT_SYSTEM, stepInstruction } from './prompts.js';
import { condensedHistory, parseTranscript, serializeTranscript, type StepRecord } from './transcript.js';

export interface ExperimentStepInput {
  runId: string;
  /** 1-based number of the step being decided. */
  step: number;
  model: string;
  reasoningEffort?: 'low' | 'medium' | 'high';
  task: ArtifactRef;
  inputs: Record<string, ArtifactRef>;
  revision?: { feedback: string; previous: ArtifactRef; number: number };
  transcript?: ArtifactRef;
  /** The previous step's action and observation, recorded now. */
  pending?: { thought?: string; action: EnvAction; observation: Observation };
  maxSteps: number;
  secondsLeft: number;
  budgetLeft?: Budget;
  /** Competition runs improve the task's methods/ and check the dev score; research runs implement a proposal. */
  brief?: 'research' | 'competition';
}

export interface ExperimentStepDecision {
  thought: string;
  action: EnvAction;
  /** The transcript with the previous step appended. */
  transcript?: ArtifactRef;
  usage: Usage;
  calls: LlmCallRecord[];
  model: string;
}

const decisionSchema = z.object({ thought: z.string().max(4000), action: envActionSchema });

/** Keeps long inputs from crowding out the history in the agent's prompt. */
const MAX_INPUT_CHARS = 6000;
/**
 * The embedded model's whole context is 8K tokens: its inputs are digests (the task, the idea and
 * the proposal; the literature review is left out), so the brief, the plan and six steps fit.
 */
const EMBEDDED_INPUT_CHARS: Record<string, number> = { task: 1500, idea: 1200, proposal: 2400 };
/** Output tokens of one embedded agent step (the bounded JSON schema is sized from it). */
const EMBEDDED_STEP_TOKENS = 1800;

export function createExperimentAgentActivities({ store, llm }: { store: ArtifactStore; llm: LlmGateway }) {
  return {
    async decideExperimentStep(input: ExperimentStepInput): Promise<ExperimentStepDecision> {
      const ctx = Context.current();
      const transcript = await appendPending(store, input);
      const records = transcript ? parseTranscript(await store.getText(transcript)) : [];
      const brief = input.brief ?? 'research';
      const prompt = await experimentPrompt(store, input, records, brief);
      await store.put(input.runId, `experiment/steps/${String(input.step).padStart(3, '0')}-prompt.md`, prompt);

      const decide = (text: string, attempt: string) =>
        withHeartbeat(
          () =>
            llm.completeJson(
              {
                model: input.model,
                system: EXPERIMENT_SYSTEM,
                prompt: text,
                // A small model's script is ~1,000 tokens; a higher cap only lets a runaway string run for minutes.
                maxTokens: isEmbeddedModel(input.model) ? EMBEDDED_STEP_TOKENS : 4000,
                // A small model's code breaks often enough at its default sampling temperature; near-greedy keeps it to what it knows.
                ...(isEmbeddedModel(input.model) ? { temperature: 0.2 } : {}),
                reasoningEffort: input.reasoningEffort,
                budgetLeft: budgetAfter(input.budgetLeft, usageOfCalls(calls)),
                cacheKey: `${input.runId}/experiment/revision-${input.revision?.number ?? 0}/step-${input.step}${attempt}`,
                signal: ctx.cancellationSignal,
              },
              decisionSchema,
              'next_action',
            ),
          () => ({ stage: 'experiment', step: input.step }),
        );
      const calls: LlmCall[] = [];
      const ledger: LlmCall[] = [];
      let decided: { thought: string; action: EnvAction };
      try {
        decided = await recordingCalls(llm, ledger, async () => {
          let result = await decide(prompt, '');
          calls.push(...result.calls);
          // Small models copy instruction text into a file's content; such a file is asked for once more, not run.
          const prose = proseForCode(result.value.action);
          if (prose) {
            result = await decide(`${prompt}\n\n## Your reply was not used\n${prose} Reply again: the content must be the complete Python program itself.`, '/code-again');
            calls.push(...result.calls);
          }
          return result.value;
        });
      } catch (err) {
        // A reply that stays invalid JSON loses one step, not the experiment: the step looks at the
        // workspace, says why in its thought, and the loop goes on (the calls still count).
        if (!(err instanceof ApplicationFailure && err.type === LLM_ERROR_TYPES.badOutput)) throw err;
        calls.splice(0, calls.length, ...ledger);
        decided = { thought: `[Durable Lab: the model gave no usable action at this step (${err.message}); the step lists the workspace instead.]`, action: { action: 'list_files', path: '.' } };
      }
      const { thought, action } = withoutCodeFence(decided);
      return {
        thought,
        action,
        transcript,
        usage: usageOfCalls(calls),
        calls: callRecords(calls),
        model: calls.at(-1)?.model ?? input.model,
      };
    },
  };
}

export type ExperimentAgentActivities = ReturnType<typeof createExperimentAgentActivities>;

/** Appends the previous step to the transcript (a new content-addressed version; earlier ones stay). */
export async function appendPending(store: ArtifactStore, input: Pick<ExperimentStepInput, 'runId' | 'step' | 'transcript' | 'pending'>): Promise<ArtifactRef | undefined> {
  if (!input.pending) return input.transcript;
  let records: StepRecord[] = [];
  if (input.transcript) {
    try {
      records = parseTranscript(await store.getText(input.transcript));
    } catch (err) {
      throw ApplicationFailure.nonRetryable(`cannot read the experiment transcript ${input.transcript.path}: ${(err as Error).message}`, 'InvalidInput');
    }
  }
  const record: StepRecord = { step: input.step - 1, ...input.pending };
  // A retried activity may already have appended this step.
  if (records.at(-1)?.step !== record.step) records.push(record);
  await store.put(input.runId, `experiment/steps/${String(record.step).padStart(3, '0')}.json`, JSON.stringify(record, null, 2), 'application/json');
  return store.put(input.runId, 'experiment/transcript.jsonl', serializeTranscript(records), 'application/x-ndjson');
}

/**
 * The step's prompt: the brief, the task and the plan (the same every step), the steps so far
 * (they only grow), then this step's instruction and hint, so each step shares the longest
 * possible prefix with the last one and ends with what to do.
 */
async function experimentPrompt(store: ArtifactStore, input: ExperimentStepInput, records: StepRecord[], brief: 'research' | 'competition'): Promise<string> {
  const small = isEmbeddedModel(input.model);
  const shorten = (name: string, text: string) => (small ? digest(text, EMBEDDED_INPUT_CHARS[name] ?? 0) : clip(text));
  const sections = [brief === 'competition' ? COMPETITION_BRIEF : EXPERIMENT_BRIEF, `## Task\n${shorten('task', await store.getText(input.task))}`];
  const left: string[] = [];
  for (const [name, ref] of Object.entries(input.inputs)) {
    if (small && !EMBEDDED_INPUT_CHARS[name]) left.push(name);
    else sections.push(`## ${name}\n${shorten(name, await store.getText(ref))}`);
  }
  if (left.length) sections.push(`(Left out of this prompt to keep it short: ${left.join(', ')}.)`);
  if (input.revision) sections.push(`## Reviewer feedback on the previous experiment (revision ${input.revision.number})\n${input.revision.feedback}`);
  sections.push(`## Your steps so far\n${condensedHistory(records)}`);
  const script = brief === 'research' ? scriptToFix(records) : undefined;
  if (script) sections.push(`## ${script.path} as you last wrote it (it failed)\n\`\`\`python\n${script.content}\n\`\`\``);
  sections.push(stepInstruction({ brief, step: input.step, maxSteps: input.maxSteps, secondsLeft: input.secondsLeft, hint: nextStepHint(records, brief) }));
  return sections.join('\n\n');
}

function clip(text: string): string {
  return text.length > MAX_INPUT_CHARS ? `${text.slice(0, MAX_INPUT_CHARS)}\n…(cut at ${MAX_INPUT_CHARS} characters)` : text;
}
