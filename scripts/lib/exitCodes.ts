/**
 * Exit codes of `lab` (documented in the README and `lab --help`). Commands that report on a run
 * (`run`, `status`, `resume`) say how the run ended, so scripts can branch on it.
 */
import type { RunView } from './runs.js';

export const EXIT = {
  /** Done; or the run completed, or is still running / waiting at a gate. */
  ok: 0,
  /** `lab` itself could not do it (Temporal unreachable, unknown run, refused decision). */
  error: 1,
  /** Bad usage or input; nothing was started. */
  usage: 2,
  /** The run failed, or was cancelled, terminated or timed out. */
  runFailed: 3,
  /** The run stopped short by policy: rejected at a gate, or out of budget (`lab resume` continues it). */
  runStopped: 4,
  /** `lab check`: the paper states result claims no measurement supports. */
  flagged: 5,
  /** Interrupted (Ctrl-C); the run itself goes on in Temporal. */
  interrupted: 130,
} as const;

export function runExitCode(view: RunView): number {
  if (view.execution === 'RUNNING') return EXIT.ok;
  if (view.execution === 'COMPLETED') return view.result?.status === 'completed' ? EXIT.ok : EXIT.runStopped;
  return EXIT.runFailed;
}

export const EXIT_CODES_HELP =
  'Exit codes: 0 ok (run completed, or still running), 1 error, 2 bad usage, 3 run failed/cancelled/terminated, 4 run rejected or out of budget, 5 lab check flagged result claims, 130 interrupted.';
