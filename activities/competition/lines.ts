/** Lines of code changed in methods/ against the starter code (MLRC-Bench reports the size of the change beside the score). */
import { diffLines } from 'diff';
import { isText } from './files.js';

export interface FileLines {
  path: string;
  added: number;
  removed: number;
}

/**
 * Lines added plus lines removed over every file of either side (a new file counts all its lines,
 * a deleted one too). A binary file counts one line when it is added, removed or changed.
 */
export function countLinesChanged(before: Map<string, Buffer>, after: Map<string, Buffer>): { total: number; files: FileLines[] } {
  const files: FileLines[] = [];
  for (const rel of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const a = before.get(rel);
    const b = after.get(rel);
    if (a && b && a.equals(b)) continue;
    if ((a && !isText(a)) || (b && !isText(b))) {
      files.push({ path: rel, added: b ? 1 : 0, removed: a ? 1 : 0 });
      continue;
    }
    let added = 0;
    let removed = 0;
    for (const part of diffLines(a?.toString('utf8') ?? '', b?.toString('utf8') ?? '')) {
      if (part.added) added += part.count ?? 0;
      else if (part.removed) removed += part.count ?? 0;
    }
    files.push({ path: rel, added, removed });
  }
  return { total: files.reduce((n, f) => n + f.added + f.removed, 0), files };
}
