/** What `npm run demo` prints of a run's measurements: the tables results.md copied from the code's files, or nothing. */
import { describe, expect, it } from 'vitest';
import { measuredResults } from '../scripts/demo.js';

/** results.md as the demo reads it through the store (the name only labels the case). */
const file = (_name: string, text: string) => text;

describe('the demo shows what the experiment measured', () => {
  it('prints the measured tables of results.md and nothing after them', () => {
    const results = file(
      'ok.md',
      [
        '# Experiment results',
        '',
        '- **Status:** results produced',
        '',
        '## Measured results',
        '',
        '### results/metrics.csv',
        '| method | accuracy |',
        '| --- | --- |',
        '| baseline | 0.959 |',
        '',
        '## Commands run',
        '',
        '| step | command | result | seconds |',
      ].join('\n'),
    );
    expect(measuredResults(results)).toBe("measured by the experiment's code (results/results.md):\n\nresults/metrics.csv\n| method | accuracy |\n| --- | --- |\n| baseline | 0.959 |");
  });

  it("says beside the table when the script was the brief's example run as it stands", () => {
    const results = file(
      'example.md',
      "# Experiment results\n\n## Measured results\n\n### results/metrics.csv\n| method | accuracy |\n| --- | --- |\n| baseline | 0.959 |\n\n## The brief's example script, run as it stands\n\n- `main.py` is the example.\n\n## Commands run\n",
    );
    expect(measuredResults(results)).toMatch(/\| baseline \| 0\.959 \|\n\nnote: `main\.py` is the example\.$/);
  });

  it('prints nothing for a failed experiment or a run without results.md', () => {
    expect(measuredResults(file('failed.md', '# Experiment results\n\n- **Status:** failed experiment: no result files\n\n## Commands run\n'))).toBeUndefined();
    expect(measuredResults(undefined)).toBeUndefined();
  });
});
