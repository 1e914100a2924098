/**
 * Title normalisation and similarity, shared by deduplication and the citation check.
 *
 * Normalised: Unicode NFKD with diacritics removed, LaTeX formatting commands dropped (their
 * argument kept; `\alpha` and `α` both become `alpha`), `&` → `and`, lower case, apostrophes
 * dropped, hyphenated words joined (`pre-training` = `pretraining`), every other punctuation a
 * space, and plurals made singular (a light rule: `losses` → `loss`, `models` → `model`).
 */

const GREEK: Record<string, string> = {
  α: 'alpha', β: 'beta', γ: 'gamma', δ: 'delta', ε: 'epsilon', ζ: 'zeta', η: 'eta', θ: 'theta', ι: 'iota', κ: 'kappa',
  λ: 'lambda', μ: 'mu', ν: 'nu', ξ: 'xi', π: 'pi', ρ: 'rho', σ: 'sigma', ς: 'sigma', τ: 'tau', υ: 'upsilon', φ: 'phi',
  χ: 'chi', ψ: 'psi', ω: 'omega',
};

const LATEX_FORMATTING = /\\(?:emph|textit|textbf|texttt|textsc|textrm|textsf|text|mathrm|mathbf|mathit|mathcal|mathbb|mathsf|mathtt|operatorname|boldsymbol|url)\s*(?=\{)/g;

export function titleTokens(title: string): string[] {
  let t = title
    .replace(/\\&/g, ' and ')
    .replace(LATEX_FORMATTING, '')
    // Accent commands (\'e, \"{o}, \^a, \~n) keep their letter.
    .replace(/\\['"`^~=.]\s*\{?([a-zA-Z])\}?/g, '$1')
    .replace(/\\[uvHc](?:\s+|\{)([a-zA-Z])\}?/g, '$1')
    .replace(/\\([a-zA-Z]+)/g, ' $1 ')
    .replace(/ℓ/g, ' ell ')
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[α-ω]/g, (c) => ` ${GREEK[c] ?? c} `)
    .replace(/&/g, ' and ')
    .replace(/['’‘`]/g, '')
    .replace(/([\p{L}\p{N}])[-‐‑](?=[\p{L}\p{N}])/gu, '$1');
  t = t.replace(/[^\p{L}\p{N}]+/gu, ' ');
  return t
    .split(' ')
    .filter(Boolean)
    .map(singular);
}

/** A light plural rule, applied to both sides alike: losses → loss, studies → study, models → model. */
function singular(w: string): string {
  if (w.length <= 3) return w;
  if (w.endsWith('sses')) return w.slice(0, -2);
  if (w.endsWith('ies') && w.length > 4) return `${w.slice(0, -3)}y`;
  if (w.endsWith('s') && !/(?:ss|us|is)$/.test(w)) return w.slice(0, -1);
  return w;
}

/** The normalised title as one string (for display in tests and as a dedupe key). */
export function normaliseTitle(title: string): string {
  return titleTokens(title).join(' ');
}

/**
 * Sørensen–Dice coefficient of the two titles' normalised word sets: 2|A∩B| / (|A|+|B|), in [0, 1].
 * Order-insensitive; one extra or missing word in a ten-word title costs about 0.05.
 */
export function titleSimilarity(a: string, b: string): number {
  const A = new Set(titleTokens(a));
  const B = new Set(titleTokens(b));
  if (!A.size || !B.size) return 0;
  let common = 0;
  for (const w of A) if (B.has(w)) common++;
  return (2 * common) / (A.size + B.size);
}

/** Dedupe key: the normalised title, when it has at least three words (shorter ones are too generic to merge on). */
export function titleKey(title: string): string | undefined {
  const tokens = titleTokens(title);
  return tokens.length >= 3 ? tokens.join(' ') : undefined;
}
