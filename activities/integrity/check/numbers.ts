/**
 * Numbers as people write them: the value, whether it is a percentage, and the rounding a reader
 * must allow for from the digits shown. Pure.
 */

/** A number in prose or a table: "95.3%", "0.912", "1,024", "2e-5", "−0.4". No leading sign is kept in `text`. */
// "12.5M" is no number here ("12" is not taken from it); ".924" and a "1.5x" or "1.5×" speed-up are.
export const STATED_NUMBER = /(?<![\w.])[-−]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?(?:\s?%(?![\w])|(?=[x×](?!\w))|(?![\w]|\.\d))/g;

export interface ParsedNumber {
  text: string;
  value: number;
  /** Half a unit in the last written digit (relative to the exponent for scientific notation). */
  tolerance: number;
  percent: boolean;
  integer: boolean;
}

/** Parses one match of {@link STATED_NUMBER}; undefined if it is not a finite number. */
export function parseStated(raw: string): ParsedNumber | undefined {
  const trimmed = raw.trim();
  const negative = /^[-−]/.test(trimmed);
  const text = trimmed.replace(/^[-−]/, '').replace(/\s+%$/, '%');
  const percent = text.endsWith('%');
  const digits = text.replace(/[%,]/g, '');
  const magnitude = Number(digits);
  if (!Number.isFinite(magnitude)) return undefined;
  const [mantissa, exponent] = digits.split(/e/i);
  const decimals = /\.(\d+)/.exec(mantissa)?.[1].length ?? 0;
  const tolerance = 0.5 * 10 ** (-decimals + (exponent ? Number(exponent) : 0));
  return { text, value: negative ? -magnitude : magnitude, tolerance, percent, integer: decimals === 0 && !exponent };
}

/** A measured value read from a file or a command's output; undefined if not a finite number. */
export function parseMeasured(raw: string): number | undefined {
  const v = Number(raw.replace(/^−/, '-').replace(/,/g, ''));
  return Number.isFinite(v) ? v : undefined;
}

/** The scale factors under which a stated number may be a measured one: a percentage may be a fraction. */
export function scalesOf(percent: boolean): number[] {
  return percent ? [1, 100] : [1];
}

/**
 * True if `measured` is `stated` as written: the same magnitude within the rounding of the digits
 * shown (a sign a sentence leaves to its words, "a drop of 0.12", is not held against it), a
 * fraction times 100 for a percentage, plus a hair for binary floating point.
 */
export function sameNumber(stated: { value: number; tolerance: number; percent: boolean }, measured: number): boolean {
  const size = Math.abs(stated.value);
  return scalesOf(stated.percent).some((f) => Math.abs(Math.abs(measured) * f - size) <= stated.tolerance * (1 + 1e-9) + 1e-12);
}

/** Formats a measured value for a finding: short, but enough digits to compare with the stated one. */
export function show(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e7)) return v.toExponential(3);
  return String(Number(v.toPrecision(6)));
}
