/**
 * `GET /runs/<id>/files/<path>`: one of a run's readable files from the artifact store, for the
 * figures and links in its documents. Images (png, jpg, gif, webp, svg) are sent as images (an
 * svg under a sandboxing Content-Security-Policy, so opened by itself it runs nothing); a CSV file
 * is a page with its table; other text is a page with the text escaped; anything else is refused.
 */
import { isPlainArtifactName } from '../../../activities/artifacts.js';
import { isValidRunId } from '../../../common/runIds.js';
import { csvTableHtml } from '../csvTable.js';
import { escapeHtml, page } from '../html.js';
import { messagePage } from '../pages/message.js';
import type { RouteContext, UiRoute } from './types.js';

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  svg: 'image/svg+xml',
};
/** Larger files are refused (413): a figure or table is for reading in a page, the file stays in the store. */
export const MAX_IMAGE_BYTES = 20 * 1024 * 1024;
export const MAX_TEXT_BYTES = 5 * 1024 * 1024;
/** Rows a CSV page shows, at most. */
const MAX_CSV_PAGE_ROWS = 1000;
/** An svg opened by itself is a document: no script, no plugin, no loading from anywhere. */
const SVG_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'";

export const runFileRoute: UiRoute = {
  method: 'GET',
  path: /^\/runs\/([^/]+)\/files\/(.+)$/,
  handle: serveRunFile,
};

async function serveRunFile(ctx: RouteContext): Promise<void> {
  const [runId, name] = ctx.params;
  const refused = refusedPath(name);
  if (!isValidRunId(runId)) return ctx.send(400, messagePage('Bad request', `"${runId}" is not a run id`));
  if (refused) return ctx.send(400, messagePage('Bad request', `not a file of the run: ${refused}`));
  const notFound = () => ctx.send(404, messagePage('Not found', `run ${runId} has no file ${name}`));
  // The listing says whether it is one of the run's files (never a link or folder) and how large, before reading it.
  const file = (await ctx.store.listRun(runId)).find((f) => f.name === name);
  if (!file) return notFound();
  const extension = /\.([A-Za-z0-9]+)$/.exec(name)?.[1].toLowerCase() ?? '';
  const imageType = IMAGE_TYPES[extension];
  const limit = imageType ? MAX_IMAGE_BYTES : MAX_TEXT_BYTES;
  const tooLarge = () => ctx.send(413, messagePage('Too large', `${name} is ${file.bytes.toLocaleString('en')} bytes; the console shows files up to ${(limit / 1024 / 1024).toFixed(0)} MB (open it in ${ctx.store.locateRun(runId)})`));
  if (file.bytes > limit) return tooLarge();
  const body = await ctx.store.readRunFile(runId, name);
  if (!body) return notFound();
  if (body.length > limit) return tooLarge();

  if (imageType) {
    const headers = imageType === 'image/svg+xml' ? { 'content-type': imageType, 'content-security-policy': SVG_POLICY } : { 'content-type': imageType };
    return ctx.send(200, body, headers);
  }
  const back = `<p><a href="/runs/${encodeURIComponent(runId)}">run ${escapeHtml(runId)}</a></p>`;
  const title = `<h2><code>${escapeHtml(name)}</code> <span class="muted">${file.bytes.toLocaleString('en')} bytes</span></h2>`;
  const text = utf8Text(body);
  if (text === undefined) return ctx.send(415, messagePage('Not shown', `${name} is not text, CSV or an image the console shows (png, jpg, gif, webp, svg)`));
  if (extension === 'csv') return ctx.send(200, page({ title: name, body: `${back}${title}${csvTableHtml(text, MAX_CSV_PAGE_ROWS)}` }));
  return ctx.send(200, page({ title: name, body: `${back}${title}<pre class="doc file">${escapeHtml(text)}</pre>` }));
}

/** Why `name` cannot name a file inside the run's folder, or undefined when it can. */
function refusedPath(name: string): string | undefined {
  if (name.startsWith('/') || name.startsWith('\\') || /^[A-Za-z]:/.test(name)) return 'an absolute path';
  if (name.split(/[/\\]/).some((part) => part === '..')) return 'a path with ..';
  if (!isPlainArtifactName(name)) return 'a name the artifact store does not hold';
  return undefined;
}

/** The text, when the bytes are UTF-8 with no NUL (a binary file is not shown as text). */
function utf8Text(body: Buffer): string | undefined {
  if (body.includes(0)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return undefined;
  }
}
