/** The embedded model's loop guard: a tiny model that repeats itself verbatim is stopped, and the copy cut. */
import { describe, expect, it } from 'vitest';
import { repetitionStart } from '../activities/llm/embeddedProvider.js';

describe('repetitionStart', () => {
  const intro = 'We study calibration under distribution shift and propose a simple recalibration method. '.repeat(1);
  const block = 'The model is evaluated on three shifted test sets, and the expected calibration error is reported for each of them in turn. ';

  it('finds where a verbatim loop begins, keeping one copy', () => {
    const looping = intro + block.repeat(5);
    const cut = repetitionStart(looping)!;
    expect(cut).toBeDefined();
    const kept = looping.slice(0, cut);
    expect(kept.startsWith(intro + block)).toBe(true);
    expect(kept.length).toBeLessThan(intro.length + 2 * block.length);
  });

  it('leaves prose alone, even prose that repeats short phrases', () => {
    const prose = Array.from({ length: 30 }, (_, i) => `In experiment ${i}, the baseline and the proposed method were compared on fold ${i % 5}.`).join(' ');
    expect(repetitionStart(prose)).toBeUndefined();
    expect(repetitionStart(intro + block)).toBeUndefined();
  });
});
