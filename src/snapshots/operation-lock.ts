import { StoreError } from '../core/errors.js';

/**
 * The snapshot manager's single operation slot: a state-sync snapshot and a migration snapshot
 * exclude each other. Acquiring returns a release function that is safe to call more than once,
 * so every exit path (completion, error, unsubscribe, close) can release without bookkeeping.
 */
export class OperationLock {
  private holder: string | undefined;

  /** The running operation, if any. */
  get current(): string | undefined {
    return this.holder;
  }

  /** Takes the slot for `operation`; `ERR_SNAPSHOT_CONFLICT` naming the running one otherwise. */
  acquire(operation: string): () => void {
    if (this.holder !== undefined) {
      throw new StoreError('ERR_SNAPSHOT_CONFLICT', `cannot start ${operation}: ${this.holder} is in progress`, {
        details: { running: this.holder, requested: operation },
      });
    }
    this.holder = operation;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holder = undefined;
    };
  }
}
