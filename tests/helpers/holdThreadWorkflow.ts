/** Test workflow for the deadlock-detection test: one synchronous call that holds its workflow thread. */
export async function holdThread(ms: number): Promise<string> {
  // Blocks without spinning a core, so the test costs wall time only.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  return `held ${ms} ms`;
}
