/**
 * `--model auto` is chosen here, on a worker of the research queue, from the worker's environment
 * (where the keys are; the CLI's may have none): the first provider whose key is set, else the
 * embedded model. A USD budget is checked against the chosen model's price before anything is paid.
 */
import { parseModelSpec, resolveAutoModel } from '../../common/modelSpec.js';
import type { Budget } from '../../common/schemas.js';
import { unenforceableBudget } from '../llm/prices.js';

export interface ModelChoice {
  /** The concrete spec `auto` resolved to. */
  model: string;
  /** Why the run cannot go on with it (a USD budget the price table cannot enforce); absent when it can. */
  problem?: string;
}

export function chooseAutoModel(budget: Budget | undefined, env: NodeJS.ProcessEnv = process.env): ModelChoice {
  const model = resolveAutoModel(env);
  const unenforceable = unenforceableBudget(parseModelSpec(model), budget);
  return unenforceable ? { model, problem: `--model auto chose ${model} on the worker: ${unenforceable}` } : { model };
}

export function createModelChoiceActivities(env?: NodeJS.ProcessEnv) {
  return {
    async chooseModel(input: { budget?: Budget }): Promise<ModelChoice> {
      return chooseAutoModel(input.budget, env);
    },
  };
}

export type ModelChoiceActivities = ReturnType<typeof createModelChoiceActivities>;
