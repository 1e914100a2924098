/** Lets a fake's replies go, or holds them until released (to line up a kill with calls in flight). */
export class ReplyGate {
  private held?: { promise: Promise<void>; open: () => void };

  get holding(): boolean {
    return this.held !== undefined;
  }

  hold(): void {
    if (this.held) return;
    let open!: () => void;
    const promise = new Promise<void>((resolve) => (open = resolve));
    this.held = { promise, open };
  }

  release(): void {
    this.held?.open();
    this.held = undefined;
  }

  /** Resolves at once, or when the gate is released. */
  async pass(): Promise<void> {
    while (this.held) await this.held.promise;
  }
}
