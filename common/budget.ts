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

/** An even share of `budget` for each of `ways` consumers that spend at once (a token share is at least 1). */
export function splitBudget(budget: Budget, ways: number): Budget {
  return {
    ...(budget.usd !== undefined ? { usd: budget.usd / ways } : {}),
    ...(budget.tokens !== undefined ? { tokens: Math.max(1, Math.floor(budget.tokens / ways)) } : {}),
  };
}
