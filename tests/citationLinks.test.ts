/** Links to scholarly sites that are not retrieved references are flagged, even with a malformed id (found by a new-user trial). */
import { describe, expect, it } from 'vitest';
import { EMPTY_CITATION_REPORT } from '../common/citations.js';
import { citationSection, withUnlistedLinks } from '../activities/literature/runActivities.js';

describe('links to works nobody retrieved', () => {
  const paper = [
    'The paper in arXiv:https://arxiv.org/abs/quant-phd-v2i-16-270mq8b is a peer-reviewed research article.',
    'Cite this as in https://doi.com?source=journals_abstract(p_name=0,47).',
    'See also https://www.sciencedirect.com/science/article/pii/S0000000000000000 and our verified source [arXiv:2401.01234](https://arxiv.org/abs/2401.01234).',
    'Data: https://scikit-learn.org/stable/datasets.html',
  ].join('\n');

  it('flags every scholarly link that is neither a listed reference nor an already judged citation', () => {
    const report = withUnlistedLinks({ ...EMPTY_CITATION_REPORT, checked: 1, verified: 1, verifiedIds: ['arXiv:2401.01234'] }, paper, []);
    expect(report.flagged.map((f) => f.id)).toEqual([
      'https://arxiv.org/abs/quant-phd-v2i-16-270mq8b',
      'https://doi.com?source=journals_abstract(p_name=0,47',
      'https://www.sciencedirect.com/science/article/pii/s0000000000000000',
    ]);
    expect(report.checked).toBe(4);
    expect(citationSection(report)).toMatch(/1 verified, 3 flagged[\s\S]*\*\*flagged\*\* https:\/\/arxiv\.org\/abs\/quant-phd/);
  });

  it('leaves links to the retrieved references alone', () => {
    const text = 'As shown by https://arxiv.org/abs/2402.00002.';
    expect(withUnlistedLinks(EMPTY_CITATION_REPORT, text, ['https://arxiv.org/abs/2402.00002']).flagged).toEqual([]);
  });
});
