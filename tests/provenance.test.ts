/**
 * The integrity check in small: which numbers are claims and of what kind, how strictly a claim
 * matches a measured value, and what a key that names another metric or method does to a match.
 */
import { describe, expect, it } from 'vitest';
import { renderDataFile } from '../activities/experiment/results.js';
import { extractClaims } from '../activities/integrity/check/claims.js';
import { checkDocuments, type CheckSource } from '../activities/integrity/check/engine.js';

const csv = 'method,accuracy,f1,train_seconds\nlogreg,0.9533333333,0.9529,0.41\nrandom_forest,0.9666666667,0.9665,1.87\n';
const measured = (file: string, content: string): CheckSource => ({ file, content, as: 'measured' });
const verdicts = (paper: string, sources: CheckSource[]) =>
  Object.fromEntries(checkDocuments({ documents: { 'paper.md': paper }, sources }).findings.map((f) => [f.text, f.verdict]));

describe('claims', () => {
  it('gives each number its role and skips what is not a claim (years, small counts, code, links, the reference list)', () => {
    const text = [
      '> Written by model `m` (spec `x`) for the paper stage of run `r-2025`.',
      '## 4. Results',
      'Random forest reached 96.7% accuracy (F1 0.9665) against 0.953 for logistic regression, over 5 folds in 2024.',
      'See Section 3.2, Figures 11-14 and ResNet-50; code in `main.py --seed 1234`; [arXiv:2401.01234](https://arxiv.org/abs/2401.01234).',
      'We trained with a learning rate of 0.001, seed 42 and $d_r=64$ for 30 epochs.',
      'Prior work reports 85.2% on this benchmark (Smith et al., 2023).',
      '![accuracy](results/accuracy_v2.png)',
      '## 6. Future Work',
      'We will scale to 1000 agents.',
      '## References',
      '[1] A. Author. Title. Journal 12(3):45-67, 2021.',
    ].join('\n');
    const roles = extractClaims(text, 'paper.md').map((c) => `${c.text}:${c.role}`);
    expect(roles).toEqual([
      '4.:crossref'.replace('4.:', '4:').replace('4:crossref', '4:crossref'),
      '96.7%:result',
      '0.9665:result',
      '0.953:result',
      '3.2:crossref',
      '11:crossref',
      '14:crossref',
      '50:crossref',
      '0.001:setting',
      '42:setting',
      '64:setting',
      '30:setting',
      '85.2%:quoted',
      '6:crossref',
      '1000:future',
    ].filter((r) => !/^[46]:/.test(r)));
  });
});

describe('matching', () => {
  it('matches with the digits shown, a percentage of a fraction, and nothing looser', () => {
    const v = verdicts('## Results\n\nAccuracy: 96.7%, F1 0.9665, accuracy 0.95, accuracy 0.971, train time 0.4100 s.', [measured('results/metrics.csv', csv)]);
    expect(v).toMatchObject({ '96.7%': 'supported', '0.9665': 'supported', '0.95': 'supported', '0.971': 'unsupported', '0.4100': 'supported' });
  });

  it('does not match through ÷100, a ×100 without %, timestamps, versions, line numbers or paths', () => {
    const log = [
      '2025-05-10 12:34:56,789 - INFO - start',
      'requirements: matplotlib>=3.7.0 numpy==1.26.4',
      'File "/work/run.py", line 150, in main',
      'saved to /tmp/run_0.30/out.json',
      'mean score: 1.5039',
    ].join('\n');
    const v = verdicts('## Results\n\nThe test gave p = 0.003, with 150 researchers, at 12.34 and 3.7 and 0.30 and 56.79.', [measured('results/log.txt', log)]);
    expect(v).toMatchObject({ '0.003': 'unsupported', '12.34': 'unsupported', '3.7': 'unsupported', '0.30': 'unsupported', '56.79': 'unsupported' });
    expect(v['150']).not.toBe('supported');
  });

  it('uses the digits of scientific notation as a relative tolerance', () => {
    const v = verdicts('## Results\n\nThe loss fell to 2e-5. The final loss was 2.1e-5, and the rate was 0.4.', [measured('results/m.json', '{"loss": 0.0000213, "rate_x": 0.00002}')]);
    expect(v).toMatchObject({ '2e-5': 'supported', '2.1e-5': 'supported', '0.4': 'unsupported' });
  });

  it('a value under another metric or another method is a mismatch; a difference of two measured values is derived; a typed file is no measurement', () => {
    const sources = [measured('results/metrics.csv', csv), { file: 'results/extra.json', content: '{"robust_accuracy": 0.9377}', as: 'typed' as const }];
    const paper = [
      '## Results',
      '',
      '| Method | Accuracy | F1 |',
      '| --- | --- | --- |',
      '| logreg | 0.9533 | 0.9533 |',
      '| random_forest | 0.9667 | 0.9665 |',
      '',
      'Random forest improves accuracy over logreg by 0.0133, and its robust accuracy is 0.9377.',
    ].join('\n');
    const report = checkDocuments({ documents: { 'paper.md': paper }, sources });
    const at = (text: string, line: number) => report.findings.find((f) => f.text === text && f.line === line)!;
    // logreg's F1 cell holds its accuracy: the value exists, under the wrong column.
    const [accuracy, f1] = report.findings.filter((f) => f.line === 5);
    expect(accuracy).toMatchObject({ verdict: 'supported', cell: { column: 'Accuracy', row: 'logreg' } });
    expect(f1).toMatchObject({ verdict: 'mismatch', cell: { column: 'F1', row: 'logreg' }, match: { file: 'results/metrics.csv', key: 'accuracy', row: 'logreg' } });
    expect(report.findings.filter((f) => f.line === 6).map((f) => f.verdict)).toEqual(['supported', 'supported']);
    expect(at('0.0133', 8)).toMatchObject({ verdict: 'derived' });
    expect(at('0.0133', 8).derivation).toMatch(/0\.966667 - 0\.953333 = 0\.0133\d* \(accuracy\)/);
    expect(at('0.9377', 8)).toMatchObject({ verdict: 'typed', match: { file: 'results/extra.json' } });
    expect(report.flagged).toBe(2);
  });

  it('results tables are copied from the files, so they always pass', () => {
    const table = renderDataFile('results/metrics.csv', csv);
    expect(table).toContain('| random_forest | 0.9666666667 | 0.9665 | 1.87 |');
    const report = checkDocuments({ documents: { 'results.md': `## Results\n\n${table}` }, sources: [measured('results/metrics.csv', csv)] });
    expect(report.flagged).toBe(0);
    expect(report.results).toBe(6);
  });
});

describe('paper folders of other layouts', () => {
  it('reads an AI Scientist folder (a LaTeX write-up beside run folders) and checks its numbers', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { readPaperFolder } = await import('../activities/integrity/check/folder.js');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'lab-aisci-'));
    try {
      mkdirSync(path.join(dir, 'latex'));
      for (const [run, acc, loss] of [['run_0', 0.8751, 0.4119], ['run_1', 0.9121, 0.3772]] as const) {
        mkdirSync(path.join(dir, run));
        writeFileSync(path.join(dir, run, 'final_info.json'), JSON.stringify({ shakespeare_char: { means: { accuracy_mean: acc, loss_mean: loss } } }));
      }
      writeFileSync(
        path.join(dir, 'latex', 'template.tex'),
        [
          '\\begin{abstract}',
          'Our method reaches 91.2\\% accuracy, against 87.5\\% for the baseline.',
          '\\end{abstract}',
          '\\section{Results}',
          '\\begin{tabular}{lcc}',
          'Method & Accuracy & Loss \\\\ \\hline',
          'Baseline & 0.875 & 0.412 \\\\',
          'Ours & 0.912 & 0.377 \\\\',
          '\\end{tabular}',
          'We also observed a loss of 0.301 on the held-out split \\cite{smith2020}.',
        ].join('\n'),
      );
      const folder = await readPaperFolder(dir);
      expect(folder.layout).toBe('ai-scientist');
      expect(Object.keys(folder.documents)).toEqual(['latex/template.tex']);
      const report = checkDocuments(folder);
      expect(report.findings.filter((f) => f.role === 'result').map((f) => `${f.text}:${f.verdict}`)).toEqual([
        '91.2%:supported',
        '87.5%:supported',
        '0.875:supported',
        '0.412:supported',
        '0.912:supported',
        '0.377:supported',
        '0.301:unsupported',
      ]);
      expect(folder.notes).toContain('No transcript of the coding agent: typed (laundered) result files cannot be told from measured ones.');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
