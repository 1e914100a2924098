import { cliTracingActive, endCommandSpan, flushCliTracing } from './cliTracing.js';
import { EXIT } from './exitCodes.js';

/** Ctrl-C handling for commands that follow a run: the handler runs once; returns a function that removes it. */
export function onInterrupt(handler: () => void): () => void {
  const listener = () => handler();
  process.once('SIGINT', listener);
  process.once('SIGTERM', listener);
  return () => {
    process.off('SIGINT', listener);
    process.off('SIGTERM', listener);
  };
}

let interrupted = false;

/** Whether a Ctrl-C handler ended the command: its exit code is then the interrupted one, whatever the command returns. */
export function wasInterrupted(): boolean {
  return interrupted;
}

/**
 * Exits with the interrupted code from a Ctrl-C handler. With tracing on, the command's trace is
 * sent first (at most 2 s; a second Ctrl-C meanwhile ends the process at once, the handler having
 * run once); without, at once, before anything else the signal set going can finish the command.
 */
export function exitInterrupted(): void {
  interrupted = true;
  if (!cliTracingActive()) process.exit(EXIT.interrupted);
  endCommandSpan(EXIT.interrupted, 'interrupted');
  void flushCliTracing().finally(() => process.exit(EXIT.interrupted));
}
