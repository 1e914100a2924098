/**
 * Gym-style client of `lab env serve` (Durable Lab), on `fetch` alone (Node 18+, Deno, browsers):
 *
 *   const env = new LabEnv('http://127.0.0.1:8765');
 *   const obs = await env.reset('cancer-diagnosis');
 *   const { observation, reward, done, info } = await env.step({ action: 'execute_code' });
 *
 * Self-contained (copy it anywhere). Each session is a Temporal workflow: it survives a restart of
 * the server or the workers, and `new LabEnv(url, { sessionId })` continues one. A step whose reply
 * is lost (connection dropped, a fetch timeout on a long step, HTTP 502/503/504) is sent again with
 * the same step id, so it never runs twice; any other refusal (a 4xx: a bad action, a body over
 * the server's limit) throws LabEnvError at once. Steps sent at once run one at a time, in arrival
 * order. API: docs/gym.md.
 */

export type LabAction =
  | { action: 'request_info'; topic: 'overview' | 'data' | 'metric' }
  | { action: 'validate_code' }
  | { action: 'execute_code' }
  | { action: 'submit'; summary?: string }
  | { action: 'write_file'; path: string; content: string }
  | { action: 'read_file'; path: string }
  | { action: 'list_files'; path?: string }
  | { action: 'run'; command: string; timeoutSeconds?: number }
  | { action: 'finish'; summary: string };

export interface LabObservation {
  action: string;
  ok: boolean;
  text: string;
  error?: string;
  exitCode?: number;
  killedBy?: string;
  durationMs?: number;
  filesChanged: Array<{ path: string; change: 'added' | 'modified' | 'deleted'; bytes: number }>;
  [key: string]: unknown;
}

export interface LabStepInfo {
  step: number;
  maxSteps: number;
  stepsLeft: number;
  reason?: string;
  status?: 'scored' | 'failed' | 'invalid';
  score?: number;
  normalised?: number;
  relativeImprovement?: number;
  truncated?: boolean;
  endReason?: 'submitted' | 'max_steps' | 'idle' | 'sandbox_host_lost';
  record?: string;
  [key: string]: unknown;
}

export interface LabStepResult {
  observation: LabObservation;
  reward: number;
  done: boolean;
  info: LabStepInfo;
}

export class LabEnvError extends Error {
  constructor(readonly status: number, message: string, readonly body?: Record<string, unknown>) {
    super(`HTTP ${status}: ${message}`);
  }
}

export interface LabEnvOptions {
  sessionId?: string;
  /** How long a step keeps being re-sent while the server or Temporal is unreachable (default 120 s). */
  retrySeconds?: number;
  fetch?: typeof fetch;
}

export class LabEnv {
  readonly baseUrl: string;
  sessionId?: string;
  info: Record<string, unknown> = {};
  private readonly retryMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(baseUrl = 'http://127.0.0.1:8765', options: LabEnvOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.sessionId = options.sessionId;
    this.retryMs = (options.retrySeconds ?? 120) * 1000;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** Starts a new session (a new workflow) on a competition task; returns its first observation. */
  async reset(task: string, options: { sessionId?: string; limits?: Record<string, unknown> } = {}): Promise<LabObservation> {
    const out = await this.request<{ sessionId: string; observation: LabObservation; info: Record<string, unknown> }>('POST', '/reset', { task, ...options });
    this.sessionId = out.sessionId;
    this.info = out.info;
    return out.observation;
  }

  /** One action: {observation, reward, done, info}. */
  async step(action: LabAction): Promise<LabStepResult> {
    if (!this.sessionId) throw new Error('no session: call reset(task) first, or pass sessionId');
    const stepId = crypto.randomUUID();
    const out = await this.request<LabStepResult>('POST', '/step', { sessionId: this.sessionId, action, stepId }, true);
    this.info = out.info;
    return out;
  }

  /** The session's state (step, rewards, best dev score, final score). */
  session(sessionId = this.sessionId): Promise<Record<string, unknown>> {
    if (!sessionId) throw new Error('no session');
    return this.request('GET', `/sessions/${encodeURIComponent(sessionId)}`);
  }

  /** The competitions a session can play, with their measured baseline and reference scores. */
  async tasks(): Promise<Array<{ name: string; title?: string; metric?: { name: string; direction: 'higher' | 'lower' }; baseline?: number; reference?: number }>> {
    return (await this.request<{ tasks: [] }>('GET', '/tasks')).tasks;
  }

  private async request<T>(method: string, path: string, body?: unknown, resend = false): Promise<T> {
    // Counted from the first failure in a row: a long step that ends in a fetch timeout is still re-sent.
    let failingSince: number | undefined;
    let delay = 500;
    for (;;) {
      let res: Response;
      try {
        res = await this.fetchFn(this.baseUrl + path, {
          method,
          headers: body === undefined ? undefined : { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        // Network error or timeout: the same stepId is sent again, and the workflow runs a step once.
        failingSince ??= Date.now();
        if (!resend || Date.now() - failingSince > this.retryMs) throw err;
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
        continue;
      }
      const text = await res.text();
      let payload: Record<string, unknown> | undefined;
      try {
        payload = JSON.parse(text);
      } catch {
        payload = undefined;
      }
      if (res.ok) return payload as T;
      failingSince ??= Date.now();
      if (resend && [502, 503, 504].includes(res.status) && Date.now() - failingSince <= this.retryMs) {
        await sleep(delay);
        delay = Math.min(delay * 2, 5000);
        continue;
      }
      throw new LabEnvError(res.status, String(payload?.error ?? res.statusText), payload);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
