/** Small descriptive statistics for the report. Pure. */

export function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n − 1); undefined below two values. */
export function sampleSd(values: number[]): number | undefined {
  if (values.length < 2) return undefined;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, v) => a + (v - m) ** 2, 0) / (values.length - 1));
}

/** Standard error of the mean: sample sd / √n; undefined below two values. */
export function standardError(values: number[]): number | undefined {
  const sd = sampleSd(values);
  return sd === undefined ? undefined : sd / Math.sqrt(values.length);
}

/** Pearson's r; undefined below two pairs or when either side has no spread. */
export function pearson(xs: number[], ys: number[]): number | undefined {
  if (xs.length !== ys.length || xs.length < 2) return undefined;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? undefined : sxy / Math.sqrt(sxx * syy);
}

/**
 * Half-up rounding that first removes binary noise (7.4949999… from a true 7.495), so a mean
 * rounds the way the same mean worked out by hand does.
 */
export function roundTo(x: number, digits: number): number {
  const scale = 10 ** digits;
  const scaled = Number((Math.abs(x) * scale).toFixed(6));
  return (Math.sign(x) * Math.round(scaled)) / scale;
}

/** `roundTo` as text with a fixed number of decimals (tables keep trailing zeros: 7.10). */
export function fixed(x: number | undefined, digits: number): string {
  return x === undefined || !Number.isFinite(x) ? '' : roundTo(x, digits).toFixed(digits);
}
