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
