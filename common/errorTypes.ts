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

/** Failure types that retrying cannot fix; stage and experiment activities throw these. */
export const NON_RETRYABLE_STAGE_ERRORS: string[] = [
  LLM_ERROR_TYPES.invalid,
  LLM_ERROR_TYPES.config,
  LLM_ERROR_TYPES.auth,
  LLM_ERROR_TYPES.budget,
  LLM_ERROR_TYPES.truncated,
];
