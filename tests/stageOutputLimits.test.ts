/** Output limits per stage call: the embedded model's per-stage caps, LAB_EMBEDDED_MAX_TOKENS checked like the other counts. */
import { describe, expect, it } from 'vitest';
import { outputLimits } from '../activities/stages/index.js';
import { EMBEDDED_STAGE_MAX_TOKENS, STAGE_MAX_TOKENS } from '../activities/stages/prompts.js';

describe('stage output limits', () => {
  it('an API model gets the stage cap; the embedded model its shorter per-stage cap, named as the setting to raise', () => {
    expect(outputLimits('paper', 'openai:gpt-4o', {})).toEqual({ maxTokens: STAGE_MAX_TOKENS.paper, maxContinuations: 3, raise: [] });
    expect(outputLimits('paper', 'embedded', {})).toEqual({ maxTokens: EMBEDDED_STAGE_MAX_TOKENS.paper, maxContinuations: 3, raise: [`LAB_EMBEDDED_MAX_TOKENS (${EMBEDDED_STAGE_MAX_TOKENS.paper} now)`] });
    expect(outputLimits('idea', 'embedded', { LAB_EMBEDDED_MAX_TOKENS: '300' }).maxTokens).toBe(300);
    // Never above the stage's own cap.
    expect(outputLimits('idea', 'embedded', { LAB_EMBEDDED_MAX_TOKENS: '99999' })).toMatchObject({ maxTokens: STAGE_MAX_TOKENS.idea, raise: [] });
  });

  it.each(['abc', '0', '-5', '1.5'])('refuses LAB_EMBEDDED_MAX_TOKENS=%s with a config error naming it', (value) => {
    expect(() => outputLimits('idea', 'embedded', { LAB_EMBEDDED_MAX_TOKENS: value })).toThrow(`LAB_EMBEDDED_MAX_TOKENS must be a whole number of 1 or more, not "${value}"`);
  });
});
