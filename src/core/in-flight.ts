/**
 * Work issued and not yet settled. Unsubscribing from a step does not cancel a write it already
 * issued: whoever stopped it waits here until the write landed before inspecting or wiping what
 * it writes to.
 */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>();

  /** Keeps `promise` until it settles; returns it. */
  track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    const done = (): void => void this.pending.delete(promise);
    promise.then(done, done);
    return promise;
  }

  /** Resolves once everything tracked before the call has settled, fulfilled or not. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }

  /** Resolves once nothing is tracked, including work tracked while it waits. */
  async drained(): Promise<void> {
    while (this.pending.size > 0) await this.settled();
  }
}
