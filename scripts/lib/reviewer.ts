/**
 * The name a decision is recorded under: LAB_REVIEWER when set (a shared account, a CI job), else
 * the login name of whoever runs `lab`.
 */
import os from 'node:os';

export function reviewerName(env: NodeJS.ProcessEnv = process.env): string {
  const named = env.LAB_REVIEWER?.trim();
  if (named) return named.slice(0, 100);
  try {
    return os.userInfo().username || 'unknown user';
  } catch {
    // No passwd entry for this uid (some containers).
    return env.USER || env.LOGNAME || 'unknown user';
  }
}
