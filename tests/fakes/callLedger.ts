/**
 * What a fake LLM was asked, by logical call: two requests with the same body are the same call
 * asked twice (a repeat). Bodies carry the model name, so runs with their own model names never
 * share a call.
 */
import { createHash } from 'node:crypto';
import type { FakeRequest } from './fakeLlmServer.js';
import { stageOfPrompt } from './recordedOutputs.js';

/** The call's own prompt: its first user message (later turns ask to continue, or to fix the JSON). */
export function firstPrompt(req: FakeRequest): string {
  const first = (req.body.messages ?? []).find((m: { role: string }) => m.role === 'user');
  const content = first?.content;
  return typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: { text?: string }) => p.text ?? '').join('') : req.prompt;
}

/** 0 for a call's first request, 1 for its first continuation or re-ask, and so on. */
export function turnOf(req: FakeRequest): number {
  return (req.body.messages ?? []).filter((m: { role: string }) => m.role === 'assistant').length;
}

export function callKey(req: FakeRequest): string {
  return createHash('sha256').update(JSON.stringify(req.body)).digest('hex');
}

export interface LoggedCall {
  model: string;
  stage: string;
  count: number;
  /** The fake's request numbers of each time it was asked. */
  requests: number[];
}

export class CallLedger {
  readonly byCall = new Map<string, LoggedCall>();
  received = 0;
  firstAt = 0;

  record(req: FakeRequest): void {
    this.received++;
    this.firstAt ||= Date.now();
    const key = callKey(req);
    const seen = this.byCall.get(key);
    if (seen) {
      seen.count++;
      seen.requests.push(req.n);
    } else this.byCall.set(key, { model: String(req.body.model), stage: stageOfPrompt(firstPrompt(req)) ?? 'other', count: 1, requests: [req.n] });
  }

  /** Requests beyond the first of each call. */
  get repeated(): number {
    return [...this.byCall.values()].reduce((n, c) => n + c.count - 1, 0);
  }

  /** Whether the call that request `req` made was asked again by a later request. */
  askedAgainAfter(req: FakeRequest): boolean {
    return this.byCall.get(callKey(req))?.requests.some((n) => n > req.n) ?? false;
  }

  repeatedByStage(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const c of this.byCall.values()) if (c.count > 1) out[c.stage] = (out[c.stage] ?? 0) + c.count - 1;
    return out;
  }
}
