/** bench/results.md: one section per benchmark script, each replaced by its own script's latest figures. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../../scripts/lib/paths.js';

/** Replaces the section under `heading` (a `## ` line) or adds it, keeping the other benchmarks' sections; returns the file. */
export function writeBenchSection(heading: string, lines: string[]): string {
  const file = path.join(PROJECT_ROOT, 'bench', 'results.md');
  mkdirSync(path.dirname(file), { recursive: true });
  const section = `${heading}\n\n${lines.join('\n')}\n`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmark results\n\nFigures from the benchmark scripts in tests/bench/, each section written by its script.\n';
  const start = text.indexOf(`${heading}\n`);
  if (start >= 0) {
    const after = text.indexOf('\n## ', start + heading.length);
    text = text.slice(0, start) + section + (after >= 0 ? text.slice(after) : '');
  } else {
    text = `${text.trimEnd()}\n\n${section}`;
  }
  writeFileSync(file, text);
  return file;
}
