import { endCommandTracing } from './cliTracing.js';
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

/**
 * Exits with the interrupted code from a Ctrl-C handler, after the command's trace is sent (at
 * most 2 s; a second Ctrl-C meanwhile ends the process at once, the handler having run once).
 */
export function exitInterrupted(): void {
  void endCommandTracing(EXIT.interrupted, 'interrupted').finally(() => process.exit(EXIT.interrupted));
}
