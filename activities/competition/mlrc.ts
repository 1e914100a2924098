/**
 * Importing a task in MLRC-Bench's own layout (`MLAgentBench/benchmarks_base/<task>/`): `env/`
 * (main.py, evaluation.py with evaluate_model/get_score, methods/ with all_method_handlers, the
 * dev data in env/data/ once its prepare.py ran) and `scripts/` (prepare.py, research_problem.txt,
 * read_only_files.txt, test_data/). The result is a competition folder with the `mlrc` harness.
 * Refused, with every reason: a task that needs a GPU, data not downloaded yet (the importer never
 * downloads; the sandbox has no network), imports the sandbox Python lacks, a missing interface.
 */
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { CompetitionReference, CompetitionSpec } from '../../common/competition.js';
import { sandboxVenvDir } from '../config.js';
import { exists } from './catalog.js';
import { listTree } from './files.js';

export interface MlrcImportOptions {
  /** Our name for it (default: the folder's name). */
  name?: string;
  /** MLRC-Bench keeps the metric's direction in its paper, not in the task folder: say it. */
  metric: { name: string; direction: 'higher' | 'lower'; description?: string };
  /** MLRC-Bench's published test scores of its baseline and of the top human solution; with both, reference.json is written. */
  baseline?: number;
  humanTop?: number;
  limits?: { wallSeconds: number; memoryMb: number };
  /** Replace a folder of the same name in `dest`. */
  force?: boolean;
  /** Interpreter whose modules the task's imports are checked against (default: the sandbox Python). */
  python?: string;
}

export interface MlrcImportReport {
  name: string;
  folder: string;
  files: string[];
  /** What was mapped loosely, in words. */
  notes: string[];
}

export class MlrcImportError extends Error {
  override name = 'MlrcImportError';
  constructor(
    readonly task: string,
    readonly reasons: string[],
  ) {
    super(`cannot import MLRC-Bench task "${task}":\n- ${reasons.join('\n- ')}`);
  }
}

/** Left behind: data (carried apart), outputs, caches, and main.py (replaced by run.py, without its LLM-backed logging). */
const NOT_STARTER = new Set(['data', 'output', '__pycache__', 'main.py']);
const GPU = /torch\.cuda|\.cuda\(|device\s*=\s*["']cuda|\bpytorch-cuda\b|\bcudatoolkit\b|\bcupy\b/;

export async function importMlrcTask(folder: string, dest: string, options: MlrcImportOptions): Promise<MlrcImportReport> {
  const source = path.resolve(folder);
  const name = options.name ?? path.basename(source);
  const env = path.join(source, 'env');
  const scripts = path.join(source, 'scripts');
  const reasons: string[] = [];
  const notes: string[] = [];
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) reasons.push(`"${name}" is not a usable name (letters, digits, '.', '_' or '-'): pass options.name`);
  for (const [rel, what] of [
    ['env/evaluation.py', 'the evaluation code'],
    ['env/methods/__init__.py', 'the methods package'],
    ['scripts/research_problem.txt', 'the task description'],
  ] as const) {
    if (!(await exists(path.join(source, rel)))) reasons.push(`${rel} (${what}) is missing: not an MLRC-Bench task folder (benchmarks_base/<task>/)`);
  }
  if (reasons.length) throw new MlrcImportError(name, reasons);

  const evaluation = await fs.readFile(path.join(env, 'evaluation.py'), 'utf8');
  for (const fn of ['evaluate_model', 'get_score']) {
    if (!new RegExp(`def ${fn}\\(`).test(evaluation)) reasons.push(`env/evaluation.py defines no ${fn}(): only tasks with MLRC-Bench's base-competition interface can be scored`);
  }
  if (!/def all_method_handlers\(/.test(await fs.readFile(path.join(env, 'methods', '__init__.py'), 'utf8'))) reasons.push('env/methods/__init__.py defines no all_method_handlers()');
  if (!(await nonEmptyDir(path.join(env, 'data')))) reasons.push("env/data/ is missing or empty: run the task's scripts/prepare.py on a machine with network first (it downloads the data; the sandbox has no network and the importer downloads nothing)");
  if (!(await nonEmptyDir(path.join(scripts, 'test_data')))) reasons.push("scripts/test_data/ is missing or empty: MLRC-Bench's prepare.py puts the test split there");

  const code = (await listTree(env, ['data', 'output', '__pycache__'])).files.filter((f) => f.endsWith('.py') && f !== 'main.py');
  const texts = new Map<string, string>();
  for (const rel of code) texts.set(`env/${rel}`, await fs.readFile(path.join(env, rel), 'utf8'));
  const environmentYml = path.join(scripts, 'environment.yml');
  if (await exists(environmentYml)) texts.set('scripts/environment.yml', await fs.readFile(environmentYml, 'utf8'));
  const gpu = [...texts].filter(([, t]) => GPU.test(t)).map(([f]) => f);
  if (gpu.length) reasons.push(`needs a GPU (CUDA in ${gpu.slice(0, 5).join(', ')}): the sandbox has none; run it with MLRC-Bench's own harness on a GPU machine`);

  const local = new Set(code.map((f) => f.split('/')[0]!.replace(/\.py$/, '')));
  const available = await pythonModules(options.python ?? path.join(sandboxVenvDir(), 'bin', 'python'));
  const missing = new Set<string>();
  for (const [file, text] of texts) {
    if (!file.endsWith('.py')) continue;
    for (const mod of topLevelImports(text)) if (!local.has(mod) && !available.has(mod)) missing.add(mod);
  }
  if (missing.size) reasons.push(`imports what the sandbox Python lacks: ${[...missing].sort().join(', ')} (it has numpy, pandas, scikit-learn, scipy, matplotlib; LAB_SANDBOX_VENV may name a Python with more)`);

  const target = path.join(path.resolve(dest), name);
  if ((await exists(target)) && !options.force) reasons.push(`${target} exists (pass force to replace it)`);
  if (reasons.length) throw new MlrcImportError(name, reasons);

  const readOnly = await fs.readFile(path.join(scripts, 'read_only_files.txt'), 'utf8').catch(() => '');
  const methodsReadOnly = readOnly.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('methods/'));
  if (methodsReadOnly.length) notes.push(`read_only_files.txt also protects ${methodsReadOnly.join(', ')}; here the whole of methods/ is editable`);
  notes.push('the scorer runs the method registered as "my_method" (MLRC-Bench\'s default), with MLRC-Bench\'s evaluation in the same process: no separate evaluator and no decoy labels');
  if (options.baseline === undefined || options.humanTop === undefined) notes.push('no reference.json: pass baseline and humanTop (MLRC-Bench\'s published test scores) to write one');

  await fs.rm(target, { recursive: true, force: true });
  await fs.mkdir(target, { recursive: true });
  await fs.cp(env, path.join(target, 'starter'), { recursive: true, filter: (src) => !(path.dirname(src) === env && NOT_STARTER.has(path.basename(src))) && !src.endsWith('.pyc') && path.basename(src) !== '__pycache__' });
  await fs.writeFile(path.join(target, 'starter', 'run.py'), RUN_PY);
  await fs.cp(path.join(env, 'data'), path.join(target, 'mlrc-data', 'dev'), { recursive: true });
  await fs.cp(path.join(scripts, 'test_data'), path.join(target, 'mlrc-data', 'test'), { recursive: true });
  await fs.writeFile(path.join(target, 'task.md'), await taskText(name, scripts));
  const limits = options.limits ?? { wallSeconds: 3600, memoryMb: 16384 };
  const spec: CompetitionSpec & { harness: 'mlrc' } = {
    name,
    title: `${name} (MLRC-Bench)`,
    metric: { name: options.metric.name, direction: options.metric.direction, description: options.metric.description ?? `MLRC-Bench's metric of ${name}` },
    data: `MLRC-Bench's data of ${name}: data/ holds the dev split as its prepare.py made it; the test split (its scripts/test_data/) is added only when the scorer runs.`,
    editable: 'methods/',
    limits,
    validateLimits: { wallSeconds: Math.min(600, limits.wallSeconds), memoryMb: limits.memoryMb },
    harness: 'mlrc',
  };
  await fs.writeFile(path.join(target, 'competition.json'), `${JSON.stringify(spec, null, 2)}\n`);
  if (options.baseline !== undefined && options.humanTop !== undefined) {
    const reference: CompetitionReference = {
      baseline: { score: options.baseline, method: "MLRC-Bench's baseline (my_method), as published" },
      reference: { score: options.humanTop, method: 'top human solution of the original competition', kind: 'human, published by MLRC-Bench (not re-measured here)' },
      tolerance: 0,
      measured: { at: new Date().toISOString(), command: 'importMlrcTask: published numbers, not measured by this project' },
    };
    await fs.writeFile(path.join(target, 'reference.json'), `${JSON.stringify(reference, null, 2)}\n`);
  }
  return { name, folder: target, files: (await listTree(target)).files.filter((f) => !f.startsWith('mlrc-data/')), notes };
}

/** Top-level module names a Python file imports (relative imports left out). */
export function topLevelImports(source: string): string[] {
  const mods = new Set<string>();
  for (const line of source.split('\n')) {
    const from = /^\s*from\s+([A-Za-z_][\w.]*)\s+import\b/.exec(line);
    if (from) mods.add(from[1]!.split('.')[0]!);
    const imp = /^\s*import\s+([A-Za-z_][\w.]*(?:\s+as\s+\w+)?(?:\s*,\s*[A-Za-z_][\w.]*(?:\s+as\s+\w+)?)*)\s*(?:#.*)?$/.exec(line);
    if (imp) for (const part of imp[1]!.split(',')) mods.add(part.trim().split(/\s+/)[0]!.split('.')[0]!);
  }
  return [...mods];
}

async function pythonModules(python: string): Promise<Set<string>> {
  const script = 'import sys, pkgutil\nprint("\\n".join(set(sys.stdlib_module_names) | set(sys.builtin_module_names) | {m.name for m in pkgutil.iter_modules()}))';
  const { stdout } = await promisify(execFile)(python, ['-c', script], { maxBuffer: 16 * 2 ** 20 });
  return new Set(stdout.split('\n').map((l) => l.trim()).filter(Boolean));
}

async function nonEmptyDir(dir: string): Promise<boolean> {
  return (await fs.readdir(dir).catch(() => [])).length > 0;
}

async function taskText(name: string, scripts: string): Promise<string> {
  const problem = (await fs.readFile(path.join(scripts, 'research_problem.txt'), 'utf8')).trim();
  const background = (await fs.readFile(path.join(scripts, 'background.txt'), 'utf8').catch(() => '')).trim();
  return `# ${name} (imported from MLRC-Bench)

${problem}
${background ? `\n## Background\n\n${background}\n` : ''}
## Here

- Check on dev with \`python run.py --phase dev\` (MLRC-Bench's main.py without its logging); it prints the dev score.
- The scorer runs the method registered as \`my_method\` in \`methods/__init__.py\`: make that your best one.
- Only \`methods/\` may change; every other file is compared with the original, and a changed one makes the submission invalid.
`;
}

const RUN_PY = `"""Harness of an imported MLRC-Bench task: runs a method with the task's own evaluation and prints the score.

    python run.py --phase dev [--method my_method]

Do not edit this file: the scorer runs its own copy with your methods/ (on --phase test, with the test data added).
"""
import argparse
import json
import os
import time

from evaluation import evaluate_model, get_score
from methods import all_method_handlers


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--phase", choices=["dev", "test"], default="dev")
    parser.add_argument("-m", "--method", default="my_method")
    args = parser.parse_args()
    os.makedirs("output", exist_ok=True)
    method = all_method_handlers()[args.method](args.method)
    start = time.time()
    evaluate_model(method, args.phase)
    runtime = time.time() - start
    print(json.dumps({"score": float(get_score(method, args.phase)), "runtimeSeconds": round(runtime, 3)}))


if __name__ == "__main__":
    main()
`;
