/**
 * In-process inference with node-llama-cpp on the CPU. The model is loaded once per worker
 * process and shared; calls take turns on one context sequence.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { defaultEmbeddedModel, EMBEDDED_MODEL_FILE } from '../config.js';
import { boundJsonSchema, describeBounds } from './boundedSchema.js';
import { embeddedThreads } from './embeddedThreads.js';
import { configError } from './errors.js';
import type { LlmProvider, ProviderReply, ProviderRequest } from './provider.js';

export const DEFAULT_GGUF_NAME = EMBEDDED_MODEL_FILE;

/** The default GGUF: LAB_EMBEDDED_MODEL, else the one the set-up script assembled from PyPI into .venv/models. */
export function defaultGgufPath(): string {
  return defaultEmbeddedModel();
}

interface LoadedModel {
  llama: Llama;
  model: LlamaModel;
  context: LlamaContext;
  /** One sequence, reused by every call in turn (cleared between calls). */
  sequence: LlamaContextSequence;
  queue: Promise<unknown>;
}

const loaded = new Map<string, Promise<LoadedModel>>();
let loadsStarted = 0;

let lastCall: { inputTokens: number; evaluatedTokens: number; outputTokens: number } | undefined;

/** The last call's prompt size and the tokens the model actually processed (a reused prefix is not processed again). */
export function lastEmbeddedCall(): typeof lastCall {
  return lastCall;
}

/** How many times this process started loading a GGUF (once per file is the goal). */
export function embeddedModelLoads(): number {
  return loadsStarted;
}

function contextSize(): number {
  return Number(process.env.LAB_EMBEDDED_CONTEXT ?? 8192);
}

async function load(modelPath: string): Promise<LoadedModel> {
  const { getLlama } = await import('node-llama-cpp');
  // build: 'never' uses the prebuilt CPU binary shipped in the npm package; nothing is compiled or downloaded.
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error' as never });
  const model = await llama.loadModel({ modelPath });
  // More threads than free cores makes llama.cpp crawl: the cores free now, 1 under tests and CI, or LAB_EMBEDDED_THREADS.
  const threads = await embeddedThreads();
  const context = await model.createContext({ contextSize: contextSize(), threads });
  return { llama, model, context, sequence: context.getSequence(), queue: Promise.resolve() };
}

export function loadEmbeddedModel(modelPath: string): Promise<LoadedModel> {
  let entry = loaded.get(modelPath);
  if (!entry) {
    loadsStarted += 1;
    entry = load(modelPath);
    entry.catch(() => loaded.delete(modelPath));
    loaded.set(modelPath, entry);
  }
  return entry;
}

export class EmbeddedProvider implements LlmProvider {
  readonly modelPath: string;

  constructor(ggufPath: string) {
    this.modelPath = path.resolve(ggufPath || defaultGgufPath());
    if (!existsSync(this.modelPath)) {
      throw configError(
        ggufPath
          ? `embedded model file not found: ${ggufPath}`
          : `the default embedded model is missing; run \`npm run setup\` (or set LAB_EMBEDDED_MODEL to a .gguf file)`,
      );
    }
  }

  /** Name recorded in artifacts: the file name, never the machine path. */
  get modelName(): string {
    return path.basename(this.modelPath);
  }

  async chat(req: ProviderRequest): Promise<ProviderReply> {
    const m = await loadEmbeddedModel(this.modelPath);
    const run = m.queue.then(() => this.generate(m, req));
    m.queue = run.catch(() => undefined);
    return run;
  }

  private async generate(m: LoadedModel, req: ProviderRequest): Promise<ProviderReply> {
    const { LlamaChatSession } = await import('node-llama-cpp');
    // The sequence keeps the last call's tokens: node-llama-cpp evaluates only from the first token
    // that differs, so a shared prefix (the system prompt, the task, the agent's transcript so far)
    // is not processed again. Prompt processing is most of a small model's time on a CPU.
    const evaluatedBefore = m.sequence.tokenMeter.usedInputTokens;
    const session = new LlamaChatSession({ contextSequence: m.sequence, systemPrompt: req.system, autoDisposeSequence: false });
    try {
      const turns = req.messages;
      const history = turns.slice(0, -1);
      const last = turns[turns.length - 1];
      // Earlier turns (a re-ask after invalid JSON) become chat history.
      if (history.length) {
        session.setChatHistory([
          ...(req.system ? [{ type: 'system' as const, text: req.system }] : []),
          ...history.map((t) => (t.role === 'user' ? { type: 'user' as const, text: t.content } : { type: 'model' as const, response: [t.content] })),
        ]);
      }
      const budget = contextSize() - req.maxTokens - 64;
      // Every string and array is bounded so that the largest answer the grammar admits fits maxTokens.
      // The bounds count a string's characters, the tokens its JSON text: code's escapes (\n, \", \\)
      // and indentation made an experiment step's reply twice its characters' worth of tokens and cut it.
      const bounded = req.json ? boundJsonSchema(boundedIntegersAsEnums(req.json.schema), Math.floor(req.maxTokens / JSON_TEXT_FACTOR)) : undefined;
      const prompt = this.fitToContext(m.model, bounded ? `${last.content}\n\n${describeBounds(bounded)}` : last.content, budget);
      const grammar = bounded ? await m.llama.createGrammarForJsonSchema(bounded.schema as never) : undefined;
      const inputTokens = m.model.tokenize(`${req.system ?? ''}\n${history.map((t) => t.content).join('\n')}\n${prompt}`).length;
      let outputTokens = 0;
      // A tiny model can fall into a loop and never stop; stop it when it repeats itself verbatim.
      const stop = new AbortController();
      const signal = req.signal ? AbortSignal.any([req.signal, stop.signal]) : stop.signal;
      let sofar = '';
      let loopAt: number | undefined;
      const text = await session.prompt(prompt, {
        maxTokens: req.maxTokens,
        temperature: req.temperature ?? 0.7,
        // Repeat, frequency and DRY ("don't repeat yourself") penalties push away from text already
        // written; under a JSON grammar keys and digits repeat by design, and penalised scores came
        // back as 1,2,3,4… whatever the paper. So no penalties when a grammar constrains the answer.
        ...(grammar
          ? { repeatPenalty: false as const }
          : { repeatPenalty: { penalty: 1.15, frequencyPenalty: 0.2 }, dryRepeatPenalty: { strength: 0.8, base: 1.75, allowedLength: 3 } }),
        grammar,
        signal,
        stopOnAbortSignal: true,
        onTextChunk: (chunk) => {
          sofar += chunk;
          if (grammar || loopAt !== undefined) return;
          loopAt = repetitionStart(sofar);
          if (loopAt !== undefined) stop.abort();
        },
        onToken: (tokens) => {
          outputTokens += tokens.length;
          req.onProgress?.(outputTokens);
        },
      });
      if (req.signal?.aborted) throw req.signal.reason ?? new Error('cancelled');
      // What the model processed this call (the prompt's new part, and the tokens it generated), for the prefix-reuse figures.
      lastCall = { inputTokens, evaluatedTokens: m.sequence.tokenMeter.usedInputTokens - evaluatedBefore, outputTokens };
      if (loopAt !== undefined) {
        const kept = text.slice(0, loopAt).trimEnd();
        return { text: `${kept}\n\n> (The embedded model began repeating itself here; the repetition was cut.)`, model: `embedded:${this.modelName}`, inputTokens, outputTokens, truncated: false };
      }
      return { text, model: `embedded:${this.modelName}`, inputTokens, outputTokens, truncated: outputTokens >= req.maxTokens };
    } finally {
      session.dispose({ disposeSequence: false });
    }
  }

  /** Small models have small contexts: keep the start and end of an over-long prompt. */
  private fitToContext(model: LlamaModel, prompt: string, maxTokens: number): string {
    const tokens = model.tokenize(prompt);
    if (tokens.length <= maxTokens) return prompt;
    const keep = Math.floor(maxTokens / 2) - 16;
    const head = model.detokenize(tokens.slice(0, keep));
    const tail = model.detokenize(tokens.slice(tokens.length - keep));
    return `${head}\n\n[... ${tokens.length - 2 * keep} tokens left out to fit the model's context ...]\n\n${tail}`;
  }
}

/** How much longer, in tokens, a JSON reply's text may be than its strings' characters suggest. */
const JSON_TEXT_FACTOR = 2;

/** How long a verbatim repeat must be to count as a loop: longer than any phrase prose repeats on purpose. */
const LOOP_CHARS = 160;

/**
 * Where a text started repeating itself verbatim (the start of the second copy of its last
 * LOOP_CHARS characters), or undefined while it has not.
 */
export function repetitionStart(text: string): number | undefined {
  if (text.length < 3 * LOOP_CHARS) return undefined;
  const tail = text.slice(-LOOP_CHARS);
  const first = text.indexOf(tail);
  if (first >= text.length - LOOP_CHARS) return undefined;
  // The next copy after the first: the text before it holds everything once.
  return text.indexOf(tail, first + 1);
}

/**
 * llama.cpp's JSON grammar ignores minimum/maximum, so a 1–10 score could come back as 1000000.
 * Small integer ranges (rubric scores) become enums, which the grammar does enforce.
 */
export function boundedIntegersAsEnums(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(boundedIntegersAsEnums);
  if (!schema || typeof schema !== 'object') return schema;
  const node = schema as Record<string, unknown>;
  const { minimum, maximum } = node;
  if (node.type === 'integer' && typeof minimum === 'number' && typeof maximum === 'number' && maximum - minimum <= 100) {
    const { type: _type, minimum: _min, maximum: _max, ...rest } = node;
    return { ...rest, enum: Array.from({ length: maximum - minimum + 1 }, (_, i) => minimum + i) };
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, boundedIntegersAsEnums(v)]));
}
