/** The provenance check: numbers a report states must be in files the sandboxed code wrote. */
import { describe, expect, it } from 'vitest';
import { checkProvenance, matches, MeasuredIndex, statedNumbers } from '../activities/integrity/provenance.js';
import { renderDataFile } from '../activities/experiment/results.js';

const csv = 'method,accuracy,f1,train_seconds\nlogreg,0.9533333333,0.9529,0.41\nrandom_forest,0.9666666667,0.9665,1.87\n';

describe('provenance', () => {
  it('finds result numbers and skips what is not a result (years, small counts, ids, cross-references, links)', () => {
    const text = [
      '> Written by model `m` (spec `x`) for the paper stage of run `r-2025`.',
      '## 4.2 Results',
      'Random forest reached 96.7% accuracy (F1 0.9665) against 0.953 for logistic regression, over 5 folds in 2024.',
      'See Section 3.2, Table 1 and Figure 2; code in `main.py --seed 1234`; [arXiv:2401.01234](https://arxiv.org/abs/2401.01234).',
      '![accuracy](results/accuracy_v2.png)',
    ].join('\n');
    expect(statedNumbers(text).map((n) => n.text)).toEqual(['96.7%', '0.9665', '0.953']);
  });

  it('matches with the stated precision, percentages of fractions, and nothing looser', () => {
    const [pct, f1, rounded, wrong] = statedNumbers('96.7% 0.9665 0.95 0.971');
    expect(matches(pct, 0.9666666667)).toBe(true);
    expect(matches(f1, 0.9665)).toBe(true);
    expect(matches(rounded, 0.9533333333)).toBe(true);
    expect(matches(wrong, 0.9666666667)).toBe(false);
    expect(matches(statedNumbers('-0.42')[0], 0.42)).toBe(false);
  });

  it('a planted invented number is flagged with its line; measured ones pass', () => {
    const index = new MeasuredIndex();
    index.add('results/metrics.csv', csv);
    const paper = 'Logistic regression: 95.3% accuracy.\nRandom forest: 0.967 accuracy.\nOur method reaches 0.987 accuracy.';
    const report = checkProvenance({ 'paper.md': paper }, index);
    expect(report).toMatchObject({ checked: 3, matched: 2, sources: ['results/metrics.csv'] });
    expect(report.unmatched).toEqual([{ document: 'paper.md', text: '0.987', line: 3, context: 'Our method reaches 0.987 accuracy.' }]);
  });

  it('results tables are copied from the files, so they always pass', () => {
    const index = new MeasuredIndex();
    index.add('results/metrics.csv', csv);
    const table = renderDataFile('results/metrics.csv', csv);
    expect(table).toContain('| random_forest | 0.9666666667 | 0.9665 | 1.87 |');
    expect(checkProvenance({ 'results.md': table }, index).unmatched).toEqual([]);
  });
});
