/** Sums a list of gateway calls into usage, and turns them into the ledger records stored with an outcome. */
import type { LlmCallRecord, Usage } from '../../common/schemas.js';
import type { LlmCall } from './gateway.js';

export function usageOfCalls(calls: LlmCall[]): Usage {
  return {
    llmCalls: calls.length,
    inputTokens: calls.reduce((n, c) => n + c.inputTokens, 0),
    outputTokens: calls.reduce((n, c) => n + c.outputTokens, 0),
    costUsd: Math.round(calls.reduce((n, c) => n + c.costUsd, 0) * 1e6) / 1e6,
  };
}

export function callRecords(calls: LlmCall[]): LlmCallRecord[] {
  return calls.map(({ truncated: _truncated, ...record }) => record);
}
