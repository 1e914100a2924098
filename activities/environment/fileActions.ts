/**
 * The file actions (write_file, read_file, list_files): carried out by the worker itself, confined
 * to the workspace, bounded in size. They return observations; a refused path is `ok: false`.
 */
import { constants as fsConstants, promises as fs } from 'node:fs';
import path from 'node:path';
import type { Observation, SandboxLimits } from '../../common/environment.js';
import { directoryBytes } from '../sandbox/workspaceSize.js';
import { resolveInWorkspace, snapshotDirectory } from './workspace.js';

/** read_file shows at most this much; the agent can read further with a `run` (head, sed). */
export const READ_MAX_BYTES = 64 * 1024;
/** list_files shows at most this many entries. */
export const LIST_MAX_ENTRIES = 500;

export async function writeWorkspaceFile(workspace: string, rel: string, content: string, limits: SandboxLimits): Promise<Observation> {
  const full = await resolveInWorkspace(workspace, rel);
  const body = Buffer.from(content, 'utf8');
  const existing = await fs.lstat(full).catch(() => undefined);
  if (existing && !existing.isFile()) return refused('write_file', `${rel} exists and is not a regular file`);
  if (body.length > limits.fileSizeMb * 2 ** 20) return refused('write_file', `${rel}: ${body.length} bytes is over the file size limit (${limits.fileSizeMb} MB)`);
  const limitBytes = limits.workspaceMb * 2 ** 20;
  const after = (await directoryBytes(workspace, limitBytes)) - (existing?.size ?? 0) + body.length;
  if (after > limitBytes) return refused('write_file', `writing ${rel} would take the workspace over its size limit (${limits.workspaceMb} MB)`);
  await fs.mkdir(path.dirname(full), { recursive: true });
  // O_NOFOLLOW: a link put in place since the check is refused, not followed.
  const handle = await fs.open(full, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC | fsConstants.O_NOFOLLOW, 0o644);
  try {
    await handle.writeFile(body);
  } finally {
    await handle.close();
  }
  return {
    action: 'write_file',
    ok: true,
    text: `wrote ${rel} (${body.length} bytes)`,
    filesChanged: [{ path: rel, change: existing ? 'modified' : 'added', bytes: body.length }],
  };
}

export async function readWorkspaceText(workspace: string, rel: string): Promise<Observation> {
  const full = await resolveInWorkspace(workspace, rel);
  const stat = await fs.stat(full).catch(() => undefined);
  if (!stat) return refused('read_file', `${rel} does not exist`);
  if (!stat.isFile()) return refused('read_file', `${rel} is ${stat.isDirectory() ? 'a folder (use list_files)' : 'not a regular file'}`);
  const handle = await fs.open(full, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(Math.min(stat.size, READ_MAX_BYTES));
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (head.subarray(0, 8192).includes(0)) {
    return { action: 'read_file', ok: true, text: `${rel} is a binary file (${stat.size} bytes); not shown`, filesChanged: [] };
  }
  let text = head.toString('utf8');
  if (stat.size > head.length) {
    text = text.replace(/\uFFFD+$/, '') + `\n[truncated: showed the first ${head.length} of ${stat.size} bytes; read the rest with a run action, e.g. sed -n or tail]`;
  }
  return { action: 'read_file', ok: true, text, filesChanged: [] };
}

export async function listWorkspace(workspace: string, rel?: string): Promise<Observation> {
  const dir = rel ? await resolveInWorkspace(workspace, rel) : workspace;
  const stat = await fs.stat(dir).catch(() => undefined);
  if (!stat) return refused('list_files', `${rel} does not exist`);
  if (!stat.isDirectory()) return refused('list_files', `${rel} is not a folder (use read_file)`);
  const snapshot = await snapshotDirectory(dir, { hash: false, maxEntries: LIST_MAX_ENTRIES });
  const prefix = rel ? `${rel.replace(/\/+$/, '')}/` : '';
  const lines = snapshot.entries.map((e) => (e.kind === 'dir' ? `${prefix}${e.path}/` : `${prefix}${e.path}  (${formatBytes(e.bytes)}${e.kind === 'file' ? '' : `, ${e.kind}`})`));
  if (snapshot.truncated) lines.push(`[only the first ${LIST_MAX_ENTRIES} entries are shown]`);
  return { action: 'list_files', ok: true, text: lines.length ? lines.join('\n') : `(${rel ?? 'the workspace'} is empty)`, filesChanged: [] };
}

export function refused(action: Observation['action'], error: string): Observation {
  return { action, ok: false, text: `error: ${error}`, error, filesChanged: [] };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
