/**
 * Benchmarks in the console:
 *
 *   GET  /benchmarks                        benchmarks, newest first (?page)
 *   GET  /benchmarks/<id>                   progress, failed items, retry, leaderboard once closed
 *   POST /benchmarks/<id>/retry             `lab bench retry <id> [--item T/AGENT]` (the decision token)
 *   GET  /benchmarks/<id>/charts/<file>     a leaderboard chart (SVG, sandboxed: only ever an image)
 */
import { CliError } from '../../lib/client.js';
import { restartBench } from '../../lib/bench.js';
import { runIdToFind } from '../../lib/options.js';
import { loadBenchDetails } from '../benchDetails.js';
import { benchPage } from '../pages/bench.js';
import { benchListPage } from '../pages/benchList.js';
import { CHART_FILE } from '../pages/benchReport.js';
import { messagePage } from '../pages/message.js';
import { pagedListRoute } from './pagedList.js';
import type { RouteContext, UiRoute } from './types.js';

/**
 * A chart's SVG holds task and model names (Vega escapes them): as an image it runs nothing, and
 * opened on its own it is a sandboxed document that may load and run nothing either.
 */
const CHART_POLICY = "default-src 'none'; sandbox";

const listRoute = pagedListRoute({
  query: () => `LabKind = 'benchmark'`,
  render: (ctx, shown) => benchListPage({ ...('list' in shown ? { list: shown.list } : shown), temporalLink: ctx.temporalLink }),
});

export const BENCHMARK_ROUTES: UiRoute[] = [
  { method: 'GET', path: /^\/benchmarks\/?$/, handle: listRoute },
  { method: 'GET', path: /^\/benchmarks\/([^/]+)$/, handle: (ctx) => showRoute(ctx) },
  { method: 'POST', path: /^\/benchmarks\/([^/]+)\/retry$/, handle: retryRoute },
  { method: 'GET', path: /^\/benchmarks\/([^/]+)\/charts\/([^/]+)$/, handle: chartRoute },
];

async function showRoute(ctx: RouteContext, refused?: { status: number; text: string }): Promise<void> {
  const benchId = benchIdOf(ctx);
  if (!benchId) return;
  const details = await found(ctx, () => loadBenchDetails(ctx.client, benchId));
  if (!details) return;
  const message = refused ? { kind: 'error' as const, text: refused.text } : ctx.notice(ctx.url.searchParams.get('notice'));
  const html = benchPage({
    details,
    temporalLink: ctx.temporalLink,
    decisions: { allowed: ctx.decisionsAllowed, tokenRemembered: ctx.tokenRemembered },
    ...(message ? { message } : {}),
  });
  ctx.send(refused?.status ?? 200, html);
}

/** As `lab bench retry`: the outcome is the CLI's line, shown once on the page the browser is sent back to. */
async function retryRoute(ctx: RouteContext): Promise<void> {
  const benchId = benchIdOf(ctx);
  if (!benchId) return;
  const form = await ctx.readForm();
  const auth = ctx.authorize(form);
  if (!auth.ok) return showRoute(ctx, { status: auth.status, text: auth.text.replace(/^decision refused/, 'retry refused') });
  const items = form.getAll('item').filter((item) => item !== '');
  let key: string;
  try {
    const { line } = await restartBench(ctx.client, benchId, 'retry', { items });
    key = ctx.remember('ok', line);
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    key = ctx.remember('error', `retry refused: ${err.message}`);
  }
  ctx.send(303, '', { ...auth.headers, location: `/benchmarks/${encodeURIComponent(benchId)}?notice=${key}` });
}

async function chartRoute(ctx: RouteContext): Promise<void> {
  const benchId = benchIdOf(ctx);
  if (!benchId) return;
  const file = ctx.params[1];
  if (!CHART_FILE.test(file)) return ctx.send(404, messagePage('Not found', `no chart "${file}"`));
  const details = await found(ctx, () => loadBenchDetails(ctx.client, benchId));
  if (!details) return;
  const chart = details.report?.charts.find((c) => c.file === file);
  if (!chart) return ctx.send(404, messagePage('Not found', `benchmark ${benchId} has no chart "${file}"`));
  ctx.send(200, chart.svg, { 'content-type': 'image/svg+xml; charset=utf-8', 'content-security-policy': CHART_POLICY });
}

/** The id in the address, checked as `lab bench status` checks it; answers 400 itself when it is not one. */
function benchIdOf(ctx: RouteContext): string | undefined {
  try {
    return runIdToFind(ctx.params[0]);
  } catch {
    ctx.send(400, messagePage('Bad request', `"${ctx.params[0]}" is not a benchmark id`));
    return undefined;
  }
}

/** An unknown id, or one that is no benchmark, is a 404 with the CLI's words; anything else goes to the server. */
async function found<T>(ctx: RouteContext, load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    if (err instanceof CliError && /^no benchmark with id|, not a benchmark$/.test(err.message)) {
      ctx.send(404, messagePage('Not found', err.message));
      return undefined;
    }
    throw err;
  }
}
