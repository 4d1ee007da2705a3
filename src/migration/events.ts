import { freeze } from 'immer';

/** Restore progress: running totals and, once replaying, how many versions are still behind. */
export interface ProgressEvent {
  readonly type: 'progress';
  readonly phase: 'restore' | 'replay' | 'live';
  /** Snapshot items restored (store items and IAVL nodes). */
  readonly items: number;
  /** Leaves (key-value pairs) restored. */
  readonly keys: number;
  /** Key and value bytes restored. */
  readonly bytes: number;
  readonly storesDone: number;
  /** Versions logged but not yet applied. */
  readonly lag: number;
}

/** The snapshot at `version` is fully restored (and verified when an SC is migrated). */
export interface RestoredEvent {
  readonly type: 'restored';
  readonly version: number;
  readonly keys: number;
  /** Per-store root hashes of the new SC (empty for an SS-only migration), hex. */
  readonly storeRoots: Readonly<Record<string, string>>;
}

/** A committed changeset was durably logged (the acknowledgement the root store waits for). */
export interface LoggedEvent {
  readonly type: 'logged';
  readonly version: number;
}

/** A logged changeset was applied to SC and SS. */
export interface AppliedEvent {
  readonly type: 'applied';
  readonly version: number;
}

/** v2 holds every logged version: the root store can switch at its next commit. */
export interface CaughtUpEvent {
  readonly type: 'caughtUp';
  readonly version: number;
}

/** The migration ended caught up at `version`: reads and commits move to store/v2. */
export interface SwitchEvent {
  readonly type: 'switch';
  readonly version: number;
}

/** Everything a migration reports. Each event object is deeply frozen. */
export type MigrationEvent = ProgressEvent | RestoredEvent | LoggedEvent | AppliedEvent | CaughtUpEvent | SwitchEvent;

/** Freezes an event so no subscriber can change what another one sees. */
export function migrationEvent<E extends MigrationEvent>(event: E): E {
  return freeze(event, true);
}
