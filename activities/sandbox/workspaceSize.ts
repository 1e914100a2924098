import { promises as fs } from 'node:fs';
import path from 'node:path';

/** Apparent size of everything under `dir` (links not followed); stops early once over `stopAboveBytes`. */
export async function directoryBytes(dir: string, stopAboveBytes = Infinity): Promise<number> {
  let total = 0;
  const pending = [dir];
  while (pending.length) {
    const current = pending.pop()!;
    let entries;
    try {
      entries = await fs.readdir(current, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) {
        pending.push(full);
        continue;
      }
      try {
        total += (await fs.lstat(full)).size;
      } catch {
        // removed meanwhile
      }
      if (total > stopAboveBytes) return total;
    }
  }
  return total;
}
