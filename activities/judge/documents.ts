/**
 * A review's documents from a folder laid out as MLR-Bench lays out its outputs (task.md, idea.md,
 * related_work.md, proposal.md, results/results.md, results/paper.md, results/log.txt or the
 * coding agent's claude_output.json, a code folder, figures), copied into the artifact store so
 * the judges (on other workers) read them by content address. Also which documents each review
 * kind cannot do without.
 */
import { existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import type { ArtifactRef } from '../../common/schemas.js';
import type { ReviewDocumentName, ReviewDocuments, ReviewKind } from '../../common/reviews.js';
import { LLM_ERROR_TYPES } from '../../common/errorTypes.js';
import type { ArtifactStore } from '../artifacts.js';
import { loadRubric } from './rubrics.js';

/** Where each document is looked for, first match wins (paths inside the folder). */
export const DOCUMENT_FILES: Record<ReviewDocumentName, string[]> = {
  task: ['task.md'],
  idea: ['idea.md'],
  related_work: ['related_work.md'],
  proposal: ['proposal.md'],
  results: ['results/results.md', 'results.md'],
  log: ['results/log.txt', 'log.txt', 'claude_output.json'],
  paper: ['results/paper.md', 'paper.md'],
};
const DOCUMENT_NAMES = Object.keys(DOCUMENT_FILES) as ReviewDocumentName[];

/** The experiment's code folder: ours, or the one MLR-Bench's coding agent writes. */
export const CODE_FOLDERS = ['code', 'claude_code'];

export interface FolderLimits {
  /** Bytes kept of one document (a longer one keeps its start and end). */
  documentBytes: number;
  codeFiles: number;
  /** A larger file in the code folder is data, not code: skipped. */
  codeFileBytes: number;
  codeBytes: number;
  figures: number;
  figureBytes: number;
}

export const DEFAULT_FOLDER_LIMITS: FolderLimits = {
  documentBytes: 8 * 2 ** 20,
  codeFiles: 300,
  codeFileBytes: 256 * 2 ** 10,
  codeBytes: 4 * 2 ** 20,
  figures: 100,
  figureBytes: 10 * 2 ** 20,
};

const IMAGE_TYPES: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.svg': 'image/svg+xml',
  '.webp': 'image/webp',
};

/** Folders that hold tooling or caches, never the experiment's own code or figures. */
export const SKIPPED_FOLDERS = new Set(['.git', 'node_modules', '__pycache__', '.venv', 'venv', '.ipynb_checkpoints', '.mypy_cache', '.pytest_cache', '.cache', 'wandb', '.idea', '.vscode']);

export type FolderFiles = Partial<Record<ReviewDocumentName, string>>;

/** A non-retryable InvalidInput: reading the folder again will not help. */
function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, LLM_ERROR_TYPES.invalid);
}

/** Documents a review of `kind` refuses to go without (from its rubric). */
export function requiredDocuments(kind: ReviewKind): ReviewDocumentName[] {
  return [...loadRubric(kind).requires];
}

/** Required documents of `kind` that `docs` lacks: documents by name (any value counts as present), or a list of names present. */
export function missingDocuments(kind: ReviewKind, docs: Partial<Record<ReviewDocumentName, unknown>> | readonly ReviewDocumentName[]): ReviewDocumentName[] {
  const has = (name: ReviewDocumentName) => (Array.isArray(docs) ? docs.includes(name) : Boolean((docs as Partial<Record<ReviewDocumentName, unknown>>)[name]));
  return requiredDocuments(kind).filter((name) => !has(name));
}

/** Says what a review lacks and how to point it at the right file. */
export function missingDocumentsMessage(kind: ReviewKind, missing: ReviewDocumentName[], where: string): string {
  const names = missing.map((m) => `${m} (${DOCUMENT_FILES[m].join(' or ')})`).join(', ');
  return `a ${kind} review needs ${names}, which ${where} lacks; add the file or name another one with files.${missing[0]}`;
}

/**
 * Which documents a folder holds, without reading them (for the CLI to pick review kinds before
 * starting any): `files` overrides count when the file exists.
 */
export function documentsInFolder(folder: string, files: FolderFiles = {}): ReviewDocumentName[] {
  const isFile = (rel: string) => {
    const p = path.resolve(folder, rel);
    return existsSync(p) && statSync(p).isFile();
  };
  return DOCUMENT_NAMES.filter((name) => (files[name] !== undefined ? isFile(files[name]!) : DOCUMENT_FILES[name].some(isFile)));
}

/**
 * Reads the folder's documents, code and figures into the store under `<storeId>/inputs/`.
 * `files` names other files (inside the folder) for documents. A missing folder, or a named file
 * that is not there, fails with InvalidInput; documents simply absent are left out (the judge
 * activity decides whether its kind can do without them).
 */
export async function collectFolderDocuments(
  store: ArtifactStore,
  storeId: string,
  folder: string,
  files: FolderFiles = {},
  limits: FolderLimits = DEFAULT_FOLDER_LIMITS,
): Promise<ReviewDocuments> {
  const root = path.resolve(folder);
  const stat = await fs.stat(root).catch(() => undefined);
  if (!stat) throw invalid(`review folder ${root} does not exist`);
  if (!stat.isDirectory()) throw invalid(`review folder ${root} is not a folder`);

  const docs: ReviewDocuments = { code: [], figures: [] };
  for (const name of DOCUMENT_NAMES) {
    const given = files[name];
    const file = given !== undefined ? await namedFile(root, name, given) : await firstExisting(root, DOCUMENT_FILES[name]);
    if (!file) continue;
    const ext = safeExt(file);
    docs[name] = await store.put(storeId, `inputs/${name}${ext}`, await readDocument(file, limits.documentBytes), textMediaType(ext));
  }

  const codeRoot = await firstExisting(root, CODE_FOLDERS, true);
  if (codeRoot) docs.code = await collectCode(store, storeId, codeRoot, limits);
  docs.figures = await collectFigures(store, storeId, root, codeRoot, limits);
  return docs;
}

async function namedFile(root: string, name: ReviewDocumentName, given: string): Promise<string> {
  const file = path.resolve(root, given);
  if (file !== root && !file.startsWith(root + path.sep)) throw invalid(`files.${name} "${given}" lies outside the review folder ${root}`);
  const stat = await fs.stat(file).catch(() => undefined);
  if (!stat?.isFile()) throw invalid(`files.${name} names "${given}", which is not a file in the review folder ${root}`);
  return file;
}

async function firstExisting(root: string, candidates: string[], folder = false): Promise<string | undefined> {
  for (const c of candidates) {
    const p = path.join(root, c);
    const stat = await fs.stat(p).catch(() => undefined);
    if (stat && (folder ? stat.isDirectory() : stat.isFile())) return p;
  }
  return undefined;
}

async function readDocument(file: string, maxBytes: number): Promise<string> {
  const text = (await fs.readFile(file)).toString('utf8');
  if (Buffer.byteLength(text) <= maxBytes) return text;
  // Keep both ends: a log's outcome is at its end. The prompt shortens further and says so.
  const half = Math.floor(maxBytes / 2);
  return `${text.slice(0, half)}\n\n[... the file had ${text.length} characters; the middle was left out when it was collected ...]\n\n${text.slice(-half)}`;
}

/** Text files of the code folder, in path order, within the count and size limits. */
async function collectCode(store: ArtifactStore, storeId: string, codeRoot: string, limits: FolderLimits): Promise<ArtifactRef[]> {
  const refs: ArtifactRef[] = [];
  let bytes = 0;
  for (const rel of await walk(codeRoot, 8)) {
    if (refs.length >= limits.codeFiles || bytes >= limits.codeBytes) break;
    const file = path.join(codeRoot, rel);
    const stat = await fs.stat(file);
    if (stat.size > limits.codeFileBytes || bytes + stat.size > limits.codeBytes || IMAGE_TYPES[path.extname(rel).toLowerCase()]) continue;
    const body = await fs.readFile(file);
    if (!isText(body)) continue;
    bytes += body.length;
    refs.push(await store.put(storeId, `inputs/code/${artifactName(rel)}`, body, 'text/plain'));
  }
  return refs;
}

/** Image files anywhere in the folder but the code folder (whose figures the results folder repeats). */
async function collectFigures(store: ArtifactStore, storeId: string, root: string, codeRoot: string | undefined, limits: FolderLimits): Promise<ArtifactRef[]> {
  const skip = codeRoot ? path.relative(root, codeRoot) : undefined;
  const refs: ArtifactRef[] = [];
  for (const rel of await walk(root, 6, skip)) {
    const type = IMAGE_TYPES[path.extname(rel).toLowerCase()];
    if (!type) continue;
    if (refs.length >= limits.figures) break;
    const file = path.join(root, rel);
    if ((await fs.stat(file)).size > limits.figureBytes) continue;
    refs.push(await store.put(storeId, `inputs/figures/${artifactName(rel)}`, await fs.readFile(file), type));
  }
  return refs;
}

/** Relative paths of the plain files under `dir`, sorted; symbolic links are not followed. */
async function walk(dir: string, depth: number, skipTop?: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string, level: number): Promise<void> => {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (level < depth && !SKIPPED_FOLDERS.has(e.name) && !(level === 0 && e.name === skipTop)) await visit(child, level + 1);
      } else if (e.isFile()) out.push(child);
    }
  };
  await visit('', 0);
  return out;
}

/** Text if it has no NUL byte and is valid UTF-8. */
function isText(body: Buffer): boolean {
  if (body.subarray(0, 8192).includes(0)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(body);
    return true;
  } catch {
    return false;
  }
}

/** A relative path the artifact store accepts: each part reduced to its safe characters. */
function artifactName(rel: string): string {
  return rel
    .split('/')
    .map((part) => part.replace(/[^A-Za-z0-9 ._+-]/g, '_').replace(/^[ +]/, '_').slice(0, 200))
    .join('/');
}

function safeExt(file: string): string {
  const ext = path.extname(file).toLowerCase();
  return /^\.[a-z0-9]{1,8}$/.test(ext) ? ext : '.txt';
}

function textMediaType(ext: string): string {
  return ext === '.md' ? 'text/markdown' : ext === '.json' ? 'application/json' : 'text/plain';
}
