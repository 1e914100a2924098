/**
 * `lab env serve`: a small HTTP JSON server in front of the `envSession` workflow, so an RL loop in
 * any language can drive a competition environment. It is only a Temporal client: every session is
 * a workflow, so a session outlives this server and any worker, and a client can carry on with the
 * same sessionId after either restarts. Endpoints and formats: docs/gym.md.
 */
import { closeHttpServer } from './httpClose.js';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { z } from 'zod';
import { listCompetitions } from '../../activities/competition/index.js';
import { checkSessionId, describeActionError, envSessionLimitsSchema, type EnvSessionView } from '../../common/envSession.js';
import { innermostMessage } from '../../common/failures.js';
import { TASK_QUEUES } from '../../common/queues.js';
import { LAB_KIND, LAB_STATUS, LAB_TASK } from '../../common/searchAttributes.js';
import { ENV_ERRORS, envReadyUpdate, envSession, envSessionQuery, envStepUpdate } from '../../workflows/envSession.js';

export interface CompetitionTaskSummary {
  name: string;
  title?: string;
  metric?: { name: string; direction: 'higher' | 'lower' };
  baseline?: number;
  reference?: number;
}

export interface EnvServerOptions {
  client: Client;
  host?: string;
  port?: number;
  /** The competition tasks a reset may name (default: the catalog's ready ones). */
  listTasks?: () => Promise<CompetitionTaskSummary[]>;
  /** One line per request (method, path, status, ms), for `--verbose`. */
  log?: (line: string) => void;
}

export interface EnvServer {
  url: string;
  /** Stops accepting, waits up to `graceMs` for requests in flight, then closes their sockets. */
  close(graceMs?: number): Promise<void>;
}

/** Largest request body: a write_file carries at most 200,000 characters, JSON-escaped. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;
/**
 * A body over the limit is still read (and dropped) up to this size before the 413 goes out: a
 * client that sends its whole body before reading the answer (Python's urllib) would otherwise
 * see the connection reset instead of the 413. A larger one is cut off.
 */
const MAX_DRAINED_BYTES = 64 * 1024 * 1024;
/** How long a `GET /sessions/<id>` waits for a worker to answer the query. */
const QUERY_DEADLINE_MS = 10_000;

/** The competitions a session can play: the catalog's (tasks/competitions/, LAB_COMPETITIONS_DIR) that are ready, measured ones. */
export async function listCompetitionTasks(): Promise<CompetitionTaskSummary[]> {
  return (await listCompetitions()).filter((c) => !c.error).map(({ name, title, metric, baseline, reference }) => ({ name, title, metric, baseline, reference }));
}

class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly extra: Record<string, unknown> = {}) {
    super(message);
  }
}

const resetBodySchema = z.object({
  task: z.string({ error: 'task is required (see GET /tasks)' }).min(1, 'task is required (see GET /tasks)'),
  sessionId: z.string().optional(),
  limits: z.record(z.string(), z.unknown()).optional(),
});

const stepBodySchema = z.object({
  sessionId: z.string({ error: 'sessionId is required' }).min(1, 'sessionId is required'),
  action: z.unknown(),
  /** The step's Update id: re-sending a step with the same id after a lost reply never runs it twice. */
  stepId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,100}$/, 'stepId: 1-100 letters, digits, ".", "_" or "-"')
    .optional(),
});

export async function startEnvServer(options: EnvServerOptions): Promise<EnvServer> {
  const { client } = options;
  const listTasks = options.listTasks ?? (() => listCompetitionTasks());
  const routes: Array<{ method: string; pattern: RegExp; handle: (m: RegExpExecArray, body: () => Promise<unknown>) => Promise<unknown> }> = [
    { method: 'GET', pattern: /^\/(health)?$/, handle: async () => ({ ok: true, endpoints: ['GET /tasks', 'POST /reset', 'POST /step', 'GET /sessions/<id>'] }) },
    { method: 'GET', pattern: /^\/tasks$/, handle: async () => ({ tasks: await listTasks() }) },
    { method: 'POST', pattern: /^\/reset$/, handle: async (_m, body) => reset(await body()) },
    { method: 'POST', pattern: /^\/step$/, handle: async (_m, body) => step(await body()) },
    { method: 'GET', pattern: /^\/sessions\/([^/]+)$/, handle: async (m) => session(decodeURIComponent(m[1])) },
  ];

  async function reset(raw: unknown) {
    const body = parseBody(resetBodySchema, raw);
    const tasks = await listTasks();
    if (!tasks.some((t) => t.name === body.task)) {
      throw new HttpError(400, `unknown competition task "${body.task}" (tasks: ${tasks.map((t) => t.name).join(', ') || 'none'})`);
    }
    let sessionId: string;
    try {
      sessionId = checkSessionId(body.sessionId ?? `env-${body.task}-${randomUUID().slice(0, 8)}`);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    const limits = envSessionLimitsSchema.safeParse(body.limits ?? {});
    if (!limits.success) throw new HttpError(400, `invalid limits: ${limits.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    let handle;
    try {
      handle = await client.workflow.start(envSession, {
        taskQueue: TASK_QUEUES.research,
        workflowId: sessionId,
        // A session id names one episode for good: its step records live under it.
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        args: [{ task: body.task, limits: body.limits }],
        typedSearchAttributes: [
          { key: LAB_KIND, value: 'env' },
          { key: LAB_TASK, value: body.task },
          { key: LAB_STATUS, value: 'running' },
        ],
        staticSummary: `environment session: ${body.task}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new HttpError(409, `session "${sessionId}" already exists: continue it with POST /step, or reset with another sessionId`);
      throw err;
    }
    try {
      return await handle.executeUpdate(envReadyUpdate);
    } catch (err) {
      throw await stepError(err, sessionId);
    }
  }

  async function step(raw: unknown) {
    const body = parseBody(stepBodySchema, raw);
    try {
      checkSessionId(body.sessionId);
    } catch (err) {
      throw new HttpError(404, `no session "${body.sessionId}"`);
    }
    // Checked here too, so a bad action costs no round trip; the workflow's validator has the last word.
    const problem = describeActionError(body.action);
    if (problem) throw new HttpError(400, problem);
    const handle = client.workflow.getHandle(body.sessionId);
    try {
      return await handle.executeUpdate(envStepUpdate, { args: [body.action as never], updateId: body.stepId ?? randomUUID() });
    } catch (err) {
      throw await stepError(err, body.sessionId);
    }
  }

  async function session(id: string): Promise<EnvSessionView & { execution: string }> {
    const handle = client.workflow.getHandle(id);
    const d = await handle.describe().catch((err) => {
      if (err instanceof WorkflowNotFoundError) throw new HttpError(404, `no session "${id}"`);
      throw err;
    });
    if (d.type !== 'envSession') throw new HttpError(404, `"${id}" is a ${d.type} workflow, not an environment session`);
    const execution = d.status.name;
    if (execution === 'RUNNING') {
      const view = await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(envSessionQuery)).catch(() => {
        throw new HttpError(503, `session "${id}" is running but no worker answered within ${QUERY_DEADLINE_MS / 1000} s (is \`lab worker\` running?)`);
      });
      return { ...view, execution };
    }
    if (execution === 'COMPLETED') return { ...((await handle.result()) as EnvSessionView), execution };
    const error = await handle.result().then(
      () => undefined,
      (err) => rootMessage(err),
    );
    throw new HttpError(409, `session "${id}" ended: ${execution.toLowerCase()}${error ? `: ${error}` : ''}`, { execution });
  }

  /** An update's failure as an HTTP error: the validator's verdicts, a missing or finished session. */
  async function stepError(err: unknown, sessionId: string): Promise<unknown> {
    if (err instanceof HttpError) return err;
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      const { type, message } = err.cause;
      if (type === ENV_ERRORS.invalidAction) return new HttpError(400, message);
      if (type === ENV_ERRORS.sessionDone) return new HttpError(409, message);
      if (type === ENV_ERRORS.prepareFailed) return new HttpError(500, message);
    }
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) {
      return new HttpError(504, 'the step is still running: send it again with the same stepId to wait for its result', { retry: true });
    }
    // An update to a closed workflow is "not found" too: say how the session ended, if it exists.
    const d = await client.workflow
      .getHandle(sessionId)
      .describe()
      .catch(() => undefined);
    if (!d && err instanceof WorkflowNotFoundError) return new HttpError(404, `no session "${sessionId}"`);
    if (d && d.type !== 'envSession') return new HttpError(404, `"${sessionId}" is a ${d.type} workflow, not an environment session`);
    if (d && d.status.name !== 'RUNNING') {
      if (d.status.name === 'COMPLETED') return new HttpError(409, `session "${sessionId}" is done`);
      const why = await client.workflow
        .getHandle(sessionId)
        .result()
        .then(
          () => undefined,
          (e) => rootMessage(e),
        );
      return new HttpError(d.status.name === 'FAILED' ? 500 : 409, `session "${sessionId}" ended (${d.status.name.toLowerCase()})${why ? `: ${why}` : ''}`);
    }
    return err;
  }

  const server = http.createServer((req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes.find((r) => r.pattern.test(url.pathname) && r.method === req.method);
    const send = (status: number, payload: unknown) => {
      const text = JSON.stringify(payload);
      // After a 413 the connection is not reused: what is left of a cut-off body would be read as the next request.
      const close = status === 413 ? { connection: 'close' } : {};
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...close });
      res.end(text);
      options.log?.(`${req.method} ${url.pathname} ${status} ${Date.now() - started}ms`);
    };
    if (!route) {
      const other = routes.some((r) => r.pattern.test(url.pathname));
      send(other ? 405 : 404, { error: other ? `${req.method} is not allowed on ${url.pathname}` : `no endpoint ${url.pathname} (GET /tasks, POST /reset, POST /step, GET /sessions/<id>)` });
      return;
    }
    route
      .handle(route.pattern.exec(url.pathname)!, () => readJson(req))
      .then(
        (payload) => send(200, payload),
        (err) => {
          if (err instanceof HttpError) send(err.status, { error: err.message, ...err.extra });
          else if (isUnavailable(err)) send(503, { error: `Temporal is unreachable: ${rootMessage(err)}` });
          else send(500, { error: rootMessage(err) });
        },
      );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8765, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as { address: string; port: number };
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    // A step still running stays in its workflow; its client gets the result by re-sending the same stepId.
    close: (graceMs = 2000) => closeHttpServer(server, graceMs),
  };
}

function parseBody<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, parsed.error.issues.map((i) => (i.path.length && !i.message.startsWith(String(i.path[0])) ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; '));
  return parsed.data;
}

function readJson(req: http.IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const tooLarge = (size: string) =>
      new HttpError(413, `the request body is ${size}, over the limit of ${MAX_BODY_BYTES} bytes (a write_file's content is at most 200,000 characters)`, { limitBytes: MAX_BODY_BYTES });
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > MAX_DRAINED_BYTES) {
      // Too large even to drop: answer now; the connection closes after the answer.
      req.pause();
      return reject(tooLarge(`${declared} bytes`));
    }
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_DRAINED_BYTES) {
        req.pause();
        reject(tooLarge(`over ${MAX_DRAINED_BYTES} bytes`));
      } else if (bytes > MAX_BODY_BYTES) {
        chunks.length = 0; // read on and drop, so the client gets to read the 413
      } else {
        chunks.push(chunk);
      }
    });
    req.on('error', reject);
    req.on('end', () => {
      if (bytes > MAX_BODY_BYTES) return reject(tooLarge(`${bytes} bytes`));
      const text = Buffer.concat(chunks).toString('utf8');
      if (!text.trim()) return reject(new HttpError(400, 'the request needs a JSON body'));
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new HttpError(400, `the body is not JSON: ${(err as Error).message}`));
      }
    });
  });
}

/** The innermost cause's first line: one line of JSON error for the client. */
function rootMessage(err: unknown): string {
  return innermostMessage(err).split('\n')[0];
}

function isUnavailable(err: unknown): boolean {
  const code = (err as { code?: number; cause?: { code?: number } })?.code ?? (err as { cause?: { code?: number } })?.cause?.code;
  // gRPC UNAVAILABLE
  return code === 14 || /UNAVAILABLE|ECONNREFUSED/.test(String((err as Error)?.message ?? ''));
}
