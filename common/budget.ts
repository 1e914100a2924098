/** Budget arithmetic, in one place for the workflows and the gateway (pure). */
import type { Budget } from './schemas.js';

/** What is left of `budget` after spending `spent` (never below zero); undefined stays undefined. */
export function budgetAfter<B extends Budget | undefined>(budget: B, spent: { costUsd: number; inputTokens: number; outputTokens: number }): B {
  if (!budget) return budget;
  return {
    usd: budget.usd === undefined ? undefined : Math.max(0, budget.usd - spent.costUsd),
    tokens: budget.tokens === undefined ? undefined : Math.max(0, budget.tokens - spent.inputTokens - spent.outputTokens),
  } as B;
}
