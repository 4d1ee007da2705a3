/**
 * Runs async tasks one at a time, in call order. The State Storage checks "version > latest" and
 * then writes; two interleaved writers could both pass the check, so every check-then-write runs
 * inside this queue. A failed task does not block the ones queued after it.
 */
export class WriteQueue {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it has settled; resolves with its result. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every task queued so far has settled. */
  idle(): Promise<void> {
    return this.tail.then(() => undefined);
  }
}
