/**
 * The web console's HTTP server (`lab ui`): server-rendered pages over the same Temporal client
 * and artifact store the CLI uses. It holds no state of its own besides short-lived notices, so
 * it can be stopped and started at any time; runs and gates live in Temporal.
 *
 *   GET  /                       runs, newest first (?status, ?task, ?model, ?page)
 *   GET  /runs/<id>              a run: stages, gate, documents, flagged numbers
 *   POST /runs/<id>/decide       approve / revise / reject the gate the page showed (--allow-decisions)
 *   GET  /health                 "ok"
 */
import { closeHttpServer } from '../lib/httpClose.js';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Client } from '@temporalio/client';
import type { ArtifactStore } from '../../activities/artifacts.js';
import { CliError } from '../lib/client.js';
import { decideFromForm } from './decide.js';
import { cookieToken, tokenCookie, tokenMatches } from './decisionToken.js';
import { CONTENT_SECURITY_POLICY } from './html.js';
import { messagePage, otherWorkflowPage } from './pages/message.js';
import { runPage, type RunPageInput } from './pages/run.js';
import { runsPage } from './pages/runs.js';
import { loadRunDetails } from './runDetails.js';
import { listRuns, parseFilters, typedFilters } from './runList.js';
import { pageParam } from './workflowList.js';
import type { Authorization, RouteContext, UiRoute } from './routes/types.js';
import { ROUTES } from './routes/index.js';

export interface ConsoleOptions {
  client: Client;
  store: ArtifactStore;
  host: string;
  port: number;
  /** The token decisions need; without one the console is read-only. */
  decisionToken?: string;
  /** Who decides with that token, as the run's history records it (never the token itself). */
  decider?: string;
  /** The run in the Temporal UI, when its address is known. */
  temporalLink?: (runId: string) => string | undefined;
  /** Where Temporal is, for the line a page shows when it cannot be reached (`lab list`'s words). */
  temporalUnreachable?: (detail: string) => string;
  /** Unexpected errors (the page says "internal error"; the detail goes here). */
  log?: (line: string) => void;
}

export interface ConsoleServer {
  url: string;
  /** Stops accepting, lets requests in flight finish for up to `graceMs`, then closes what is left. */
  close(graceMs?: number): Promise<void>;
}

/** Form bodies are a few fields and some feedback text. */
const MAX_FORM_BYTES = 64 * 1024;
const NOTICE_TTL_MS = 10 * 60_000;
const PAGE_DEADLINE_MS = 8_000;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export async function startConsoleServer(options: ConsoleOptions): Promise<ConsoleServer> {
  const { client, store } = options;
  const temporalLink = options.temporalLink ?? (() => undefined);
  /** What a decision did, shown once the browser follows the redirect (post/redirect/get). */
  const notices = new Map<string, { kind: 'ok' | 'error'; text: string; at: number }>();

  function remember(kind: 'ok' | 'error', text: string): string {
    const now = Date.now();
    for (const [k, v] of notices) if (now - v.at > NOTICE_TTL_MS || notices.size > 500) notices.delete(k);
    const key = randomBytes(8).toString('hex');
    notices.set(key, { kind, text, at: now });
    return key;
  }

  async function runsRoute(url: URL): Promise<[number, string]> {
    const { status = '', task = '', model = '' } = typedFilters(url.searchParams);
    const typed = { status, task, model };
    let filters;
    try {
      filters = parseFilters(url.searchParams);
    } catch (err) {
      return [400, runsPage({ filters: {}, typed, error: (err as Error).message, temporalLink })];
    }
    let pageNumber: number;
    try {
      pageNumber = pageParam(url.searchParams);
    } catch (err) {
      return [400, runsPage({ filters, typed, error: (err as Error).message, temporalLink })];
    }
    const list = await listRuns(client, filters, pageNumber);
    return [200, runsPage({ filters, typed, list, temporalLink })];
  }

  async function runRoute(runId: string, req: http.IncomingMessage, extra: Partial<RunPageInput> = {}): Promise<string> {
    const details = await loadRunDetails(client, store, runId);
    if ('text' in details) return otherWorkflowPage(details.runId, details.text);
    const allowed = options.decisionToken !== undefined;
    return runPage({
      details,
      temporalLink: temporalLink(runId),
      decisions: { allowed, tokenRemembered: allowed && tokenMatches(options.decisionToken!, cookieToken(req)) },
      ...extra,
    });
  }

  async function decideRoute(runId: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const form = await readForm(req);
    const feedback = form.get('feedback') ?? undefined;
    const auth = authorize(req, form);
    if (!auth.ok) return send(res, auth.status, await runRoute(runId, req, { message: { kind: 'error', text: auth.text }, feedback }));
    const cookie = auth.headers;
    const result = await decideFromForm(client, runId, form, auth.decider);
    if (result.ok) {
      const key = remember('ok', result.line);
      res.writeHead(303, { ...cookie, location: `/runs/${encodeURIComponent(runId)}?notice=${key}`, 'cache-control': 'no-store' });
      return void res.end();
    }
    const status = result.why === 'invalid' ? 400 : result.why === 'refused' ? 409 : 503;
    const html = await runRoute(runId, req, { message: { kind: 'error', text: result.line }, feedback, decisions: { allowed: true, tokenRemembered: true } });
    return send(res, status, html, cookie);
  }

  /** The decision token from the form or the cookie, on a post from the console's own pages. */
  function authorize(req: http.IncomingMessage, form: URLSearchParams): Authorization {
    if (options.decisionToken === undefined) return { ok: false, status: 403, text: 'decision refused: this console is read-only (start it with lab ui --allow-decisions)' };
    // A page on another site may post a form here; browsers say where it came from (`null` when they will not say).
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`) return { ok: false, status: 403, text: `decision refused: it was sent from another site's page (${origin})` };
    const formToken = form.get('token') || undefined;
    if (!tokenMatches(options.decisionToken, formToken ?? cookieToken(req))) {
      const text = formToken ? 'decision refused: that is not the token lab ui printed when it started' : 'decision refused: a token is needed (lab ui printed it when it started)';
      return { ok: false, status: 403, text };
    }
    return { ok: true, headers: formToken ? { 'set-cookie': tokenCookie(formToken) } : {}, decider: `${options.decider ?? 'unnamed'} (lab ui)` };
  }

  function routeContext(route: UiRoute, match: RegExpExecArray, url: URL, req: http.IncomingMessage, res: http.ServerResponse): RouteContext {
    const allowed = options.decisionToken !== undefined;
    return {
      client,
      store,
      url,
      req,
      res,
      params: match.slice(1).map((p) => segment(p ?? '')),
      temporalLink,
      decisionsAllowed: allowed,
      tokenRemembered: allowed && tokenMatches(options.decisionToken!, cookieToken(req)),
      readForm: () => readForm(req),
      authorize: (form) => authorize(req, form),
      send: (status, body, headers) => send(res, status, body, headers),
      remember,
      notice: (key) => (key ? notices.get(key) : undefined),
    };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console.invalid');
    // Bound to this machine only: a page on another site must not reach it through a name that resolves here (DNS rebinding).
    if (LOOPBACK.has(options.host) && !allowedHost(req.headers.host)) throw new HttpError(421, `unexpected Host header "${req.headers.host ?? ''}"`);
    const run = /^\/runs\/([^/]+)(\/decide)?$/.exec(url.pathname);
    const method = req.method ?? 'GET';
    if (url.pathname === '/health') return send(res, 200, 'ok\n', { 'content-type': 'text/plain; charset=utf-8' });
    // Browsers ask for it on every page; there is none.
    if (url.pathname === '/favicon.ico') return send(res, 204, '');
    if (url.pathname === '/' && method === 'GET') {
      const [status, html] = await runsRoute(url);
      return send(res, status, html);
    }
    if (run && !run[2] && method === 'GET') {
      const runId = runIdFrom(run[1]);
      const key = url.searchParams.get('notice');
      const message = key ? notices.get(key) : undefined;
      return send(res, 200, await runRoute(runId, req, message ? { message } : {}));
    }
    if (run && run[2] && method === 'POST') return decideRoute(runIdFrom(run[1]), req, res);
    if (url.pathname === '/' || run) throw new HttpError(405, `${method} is not allowed here`);
    let pathMatched = false;
    for (const route of ROUTES) {
      const match = route.path.exec(url.pathname);
      if (!match) continue;
      pathMatched = true;
      if (route.method === method) return route.handle(routeContext(route, match, url, req, res));
    }
    if (pathMatched) throw new HttpError(405, `${method} is not allowed here`);
    throw new HttpError(404, `no page at ${url.pathname}`);
  }

  function allowedHost(host: string | undefined): boolean {
    if (!host) return false;
    const port = (server.address() as AddressInfo).port;
    return [...LOOPBACK, options.host].some((h) => host === `${h.includes(':') ? `[${h}]` : h}:${port}`);
  }

  const server = http.createServer((req, res) => {
    // A Temporal that does not answer is said in seconds, not after the client's own minute of retries;
    // a decision sets its own, longer deadline inside this one.
    client.withDeadline(Date.now() + PAGE_DEADLINE_MS, () => handle(req, res)).catch((err) => {
      if (res.headersSent) return void res.destroy();
      if (err instanceof HttpError) return send(res, err.status, messagePage(err.status === 404 ? 'Not found' : err.status === 403 ? 'Refused' : 'Bad request', err.message));
      // An unknown run and an unreachable server are the CLI's one-liners too.
      if (err instanceof CliError) return send(res, /^no run with id/.test(err.message) ? 404 : 502, messagePage('Cannot show this', err.message));
      if (isUnreachable(err)) {
        const detail = (err as Error).message.split('\n')[0];
        return send(res, 503, messagePage('Temporal is not answering', options.temporalUnreachable?.(detail) ?? `cannot reach Temporal (${detail})`));
      }
      options.log?.(`lab ui: ${req.method} ${req.url}: ${(err as Error).stack ?? err}`);
      send(res, 500, messagePage('Internal error', `${(err as Error).message.split('\n')[0]} (the console's output has the detail)`));
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    close: (graceMs = 2000) => closeHttpServer(server, graceMs),
  };
}

/** gRPC UNAVAILABLE (14) or DEADLINE_EXCEEDED (4) anywhere in the cause chain: the server is down or not answering. */
function isUnreachable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown; message?: unknown } | undefined, depth = 0; e && depth < 6; e = e.cause as typeof e, depth++) {
    if (e.code === 14 || e.code === 4 || /UNAVAILABLE|deadline exceeded|ECONNREFUSED/i.test(String(e.message ?? ''))) return true;
  }
  return false;
}

function segment(encoded: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new HttpError(400, 'the address is not valid URL encoding');
  }
}

function runIdFrom(encoded: string): string {
  const runId = segment(encoded);
  // As `lab status` checks a run id to look up.
  if (!runId.trim() || /[\u0000-\u001f\u007f]/.test(runId)) throw new HttpError(400, `${JSON.stringify(runId)} is not a run id`);
  return runId;
}

function send(res: http.ServerResponse, status: number, body: string | Buffer, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    // Not no-referrer: with it, browsers send `Origin: null` on the console's own form posts.
    'referrer-policy': 'same-origin',
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(req));
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    // A body over the limit is read to its end and dropped, so the browser gets the answer rather than a reset.
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= MAX_FORM_BYTES) chunks.push(chunk);
    });
    req.on('end', () => (bytes > MAX_FORM_BYTES ? reject(new HttpError(413, `the form is larger than ${MAX_FORM_BYTES / 1024} KB`)) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}
