/**
 * The values of a set of source files, sorted once and searched by bisection: a stated number is
 * looked up in the narrow range of values it could be written from (one per scale), so a source
 * of a million numbers is searched in microseconds. Values are kept in typed arrays (no spread of
 * large arrays anywhere); keys and row labels are interned.
 */
import { parseCode, parseSource, type Emit, type Emitted } from './parsers.js';
import { sameNumber, scalesOf } from './numbers.js';
import type { SourceValue } from './types.js';

export interface Entry extends SourceValue {
  group: number;
  series: boolean;
}

/** Growable columns of one index, before it is sorted. */
class Columns {
  value: number[] = [];
  file: number[] = [];
  key: number[] = [];
  row: number[] = [];
  group: number[] = [];
  series: number[] = [];
}

export class ValueIndex {
  private cols = new Columns();
  private strings: string[] = [''];
  private stringIds = new Map<string, number>([['', 0]]);
  /** Entry ids in ascending order of value, and those values; built on first lookup. */
  private order?: Uint32Array;
  private sorted?: Float64Array;
  readonly files: Array<{ file: string; values: number }> = [];
  /** Files that could not be parsed, with why. */
  readonly unreadable: Array<{ file: string; why: string }> = [];
  /** Distinct keys per file, for telling a key from its sibling measures. */
  private keysByFile = new Map<string, Set<number>>();

  private intern(s: string | undefined): number {
    if (!s) return 0;
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.push(s) - 1;
      this.stringIds.set(s, id);
    }
    return id;
  }

  /** Reads a file's values (as data, or as code and commands for settings); false if it is not a data file. */
  add(file: string, content: string, as: 'data' | 'code' = 'data'): boolean {
    const fileId = this.intern(file);
    const before = this.cols.value.length;
    const c = this.cols;
    const keys = this.keysByFile.get(file) ?? new Set<number>();
    this.keysByFile.set(file, keys);
    const emit: Emit = (e: Emitted) => {
      if (keys.size < 10_000) keys.add(this.intern(e.key));
      c.value.push(e.value);
      c.file.push(fileId);
      c.key.push(this.intern(e.key));
      c.row.push(this.intern(e.row));
      c.group.push(e.group);
      c.series.push(e.series ? 1 : 0);
    };
    let read: 'read' | 'not-data';
    try {
      read = as === 'code' ? (parseCode(content, emit), 'read') : parseSource(file, content, emit);
    } catch (err) {
      // One file the parsers cannot take (nested past the stack, say) is left out and said; the rest is checked.
      for (const col of Object.values(c) as number[][]) col.length = before;
      this.unreadable.push({ file, why: err instanceof Error ? `${err.name}: ${err.message}` : String(err) });
      return false;
    }
    if (read === 'not-data') return false;
    this.files.push({ file, values: this.cols.value.length - before });
    this.keyLists.delete(file);
    this.order = undefined;
    return true;
  }

  private keyLists = new Map<string, string[]>();

  keysOf(file: string): string[] {
    let list = this.keyLists.get(file);
    if (!list) this.keyLists.set(file, (list = [...(this.keysByFile.get(file) ?? [])].map((id) => this.strings[id])));
    return list;
  }

  get size(): number {
    return this.cols.value.length;
  }

  entry(id: number): Entry {
    const c = this.cols;
    const row = this.strings[c.row[id]];
    return { file: this.strings[c.file[id]], key: this.strings[c.key[id]], ...(row ? { row } : {}), value: c.value[id], group: c.group[id], series: c.series[id] === 1 };
  }

  private build(): { order: Uint32Array; sorted: Float64Array } {
    if (!this.order || !this.sorted) {
      const values = this.cols.value;
      const order = new Uint32Array(values.length);
      for (let i = 0; i < order.length; i++) order[i] = i;
      // By magnitude: a paper's "a drop of 0.12" is the file's -0.12.
      const mags = Float64Array.from(values, Math.abs);
      order.sort((a, b) => mags[a] - mags[b]);
      const sorted = new Float64Array(order.length);
      for (let i = 0; i < order.length; i++) sorted[i] = mags[order[i]];
      this.order = order;
      this.sorted = sorted;
    }
    return { order: this.order, sorted: this.sorted };
  }

  /** Ids of entries whose magnitude times one of the claim's scales lies within its tolerance. */
  candidates(stated: { value: number; tolerance: number; percent: boolean }): number[] {
    const { order, sorted } = this.build();
    const size = Math.abs(stated.value);
    const ids: number[] = [];
    for (const scale of scalesOf(stated.percent)) {
      const lo = (size - stated.tolerance) / scale;
      const hi = (size + stated.tolerance) / scale;
      const slack = Math.abs(hi) * 1e-9 + 1e-12;
      // Widened a hair so rounding here never loses a value; sameNumber decides.
      for (let i = lowerBound(sorted, lo - slack); i < sorted.length && sorted[i] <= hi + slack; i++) if (sameNumber(stated, sorted[i])) ids.push(order[i]);
    }
    return ids;
  }

  /** The `n` entries nearest in magnitude to the claim (at its scales), for a reader of a flag. */
  nearest(stated: { value: number; percent: boolean }, n: number): number[] {
    const { order, sorted } = this.build();
    const found: Array<{ id: number; distance: number }> = [];
    for (const scale of scalesOf(stated.percent)) {
      const target = Math.abs(stated.value) / scale;
      const at = lowerBound(sorted, target);
      for (let i = Math.max(0, at - n); i < Math.min(sorted.length, at + n); i++) {
        found.push({ id: order[i], distance: Math.abs(sorted[i] - target) / Math.max(target, 1e-12) });
      }
    }
    const seen = new Set<number>();
    return found
      .sort((a, b) => a.distance - b.distance)
      .filter((f) => !seen.has(f.id) && seen.add(f.id))
      .slice(0, n)
      .map((f) => f.id);
  }
}

/** The first index whose value is at least `x` (values sorted ascending). */
function lowerBound(values: Float64Array, x: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
