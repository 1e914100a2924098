/**
 * Failure types that activities throw and workflows branch on (pure: workflows import it).
 */
export const LLM_ERROR_TYPES = {
  rateLimited: 'RateLimited',
  serverError: 'ProviderServerError',
  network: 'ProviderUnavailable',
  timeout: 'ProviderTimeout',
  badOutput: 'BadModelOutput',
  auth: 'AuthError',
  config: 'ConfigError',
  invalid: 'InvalidInput',
  budget: 'BudgetExhausted',
  truncated: 'OutputTruncated',
} as const;

/** A judge's answer still broke its rubric after the gateway's one re-ask. */
export const INVALID_JUDGE_ANSWER = 'InvalidJudgeAnswer';

/** Failure types that retrying cannot fix; stage, experiment and judge activities throw these. */
export const NON_RETRYABLE_STAGE_ERRORS: string[] = [
  LLM_ERROR_TYPES.invalid,
  LLM_ERROR_TYPES.config,
  LLM_ERROR_TYPES.auth,
  LLM_ERROR_TYPES.budget,
  LLM_ERROR_TYPES.truncated,
  INVALID_JUDGE_ANSWER,
];
