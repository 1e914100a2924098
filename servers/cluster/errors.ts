/** A cluster operation that cannot go on; the message says what to do. `badInput` means nothing was started. */
export class ClusterError extends Error {
  override name = 'ClusterError';
  constructor(message: string, readonly badInput = false) {
    super(message);
  }
}
