import type { Observable } from 'rxjs';
import type { BatchReader } from '../core/batch-reader.js';
import { asBytes, compareBytes, concatBytes, equalBytes, shortHex, toHex, utf8 } from '../core/bytes.js';
import { checkChangeset, type Changeset } from '../core/changeset.js';
import { StoreError, wrapIoError } from '../core/errors.js';
import { checkVersion } from '../core/version.js';
import type { LevelDb } from '../db/level-db.js';
import { Namespace, type WriteOp, type WriteOptions } from '../db/namespace.js';
import {
  afterKey,
  checkStoreKeyText,
  DATA_END,
  DATA_START,
  dataKey,
  decodeMetaVersion,
  decodeRestoreCheckpoint,
  decodeValue,
  encodeKeyVersion,
  encodeMetaVersion,
  encodeValue,
  keyPrefix,
  META_CLEARING,
  META_EARLIEST,
  META_LATEST,
  META_PRUNING,
  META_RESTORE_CHECKPOINT,
  META_RESTORING,
  storeDataPrefix,
} from './ss-key.js';
import { SsIterator } from './ss-iterator.js';
import { pruneData, type PruneResult } from './ss-prune.js';
import {
  restoreFrom,
  RestoreWriter,
  type RestoreHost,
  type RestoreOptions,
  type RestorePair,
  type RestoreProgress,
} from './ss-restore.js';
import { WriteQueue } from './write-queue.js';

/** Options of {@link StorageStore.open}. */
export interface StorageStoreOptions {
  /**
   * Namespace prefix (raw bytes, or a string taken as UTF-8) under which every key of this store
   * lives, metadata included; default: none (the store owns the whole database).
   */
  readonly prefix?: Uint8Array | string;
  /**
   * The store keys (module names) this store accepts; any other is `ERR_UNKNOWN_STORE`. Without
   * it every well-formed store key is accepted.
   */
  readonly storeKeys?: readonly string[];
}

/** Options of {@link StorageStore.prune}. */
export interface PruneOptions {
  /** Deletes per atomic batch. Default 10 000. */
  readonly batchSize?: number;
}

const DEFAULT_PRUNE_BATCH = 10_000;
const MAX_CACHED_STORE_PREFIXES = 1024;
const CLEARING = 'a clear of the state storage';

/**
 * The State Storage (SS) of store/v2: a flat, versioned key-value index per store key, on
 * LevelDB (classic-level on disk, memory-level in tests). Every write is an entry at its version;
 * a delete is a tombstone; a read at version v sees, per key, the newest entry at or below v.
 * The key layout and why its bytewise order is correct are in `ss-key.ts`; every integer on disk
 * is big-endian.
 *
 * Versions: `latestVersion` is the last applied (0 when empty). Reading above it reads the
 * latest state (as Go does). `earliestVersion` is the first readable version: 0 until a prune
 * or a restore; reading below it is `ERR_VERSION_PRUNED`. After `prune(p)` it is `p` (Go's pebble
 * SS makes `p` itself unreadable: its earliest version becomes p + 1); after a restore at H it is H, because the
 * store never held anything older and "absent" would be a wrong answer.
 *
 * Concurrency: writes (commits, restore batches, prune batches) are serialized in one queue; a
 * read or an iteration reads one consistent LevelDB snapshot and clamps its version to the latest
 * version at its start, so a commit landing meanwhile is invisible to it. The store does not own
 * `db`: `close()` releases the store's iterators and leaves the database open.
 */
export class StorageStore {
  private readonly queue = new WriteQueue();
  private readonly prefixCache = new Map<string, Uint8Array>();
  private readonly iterators = new Set<SsIterator>();
  private latest: number;
  private earliest: number;
  private restoring: number | undefined;
  /** The version of a prune that started but did not finish (its marker is still on disk). */
  private pruning: number | undefined;
  /** A clear started and did not finish (its marker is on disk): leftover data may remain. */
  private clearing: boolean;
  /** A long exclusive operation (restore, prune, clear) in progress, named for error messages. */
  private exclusive: string | undefined;
  /** The running prune or clear, which `close()` waits for (it stops between batches). */
  private running: Promise<unknown> | undefined;
  private closed = false;

  private constructor(
    private readonly namespace: Namespace,
    private readonly storeKeys: ReadonlySet<string> | undefined,
    latest: number,
    earliest: number,
    restoring: number | undefined,
    pruning: number | undefined,
    clearing: boolean,
  ) {
    this.latest = latest;
    this.earliest = earliest;
    this.restoring = restoring;
    this.pruning = pruning;
    this.clearing = clearing;
  }

  /**
   * Opens the State Storage under `options.prefix` of `db`, reading its latest and earliest
   * versions. Fails with `ERR_INVALID_ARGUMENT` for a malformed store key list and `ERR_IO` when
   * the metadata cannot be read or is corrupt.
   */
  static async open(db: LevelDb, options: StorageStoreOptions = {}): Promise<StorageStore> {
    const prefix = options.prefix ?? new Uint8Array(0);
    let prefixBytes: Uint8Array;
    if (typeof prefix === 'string') prefixBytes = utf8(prefix);
    else if (prefix instanceof Uint8Array) prefixBytes = asBytes(prefix).slice();
    else throw new StoreError('ERR_INVALID_ARGUMENT', 'the SS prefix must be a Uint8Array or a string');
    let storeKeys: Set<string> | undefined;
    if (options.storeKeys !== undefined) {
      storeKeys = new Set();
      for (const storeKey of options.storeKeys) {
        checkStoreKeyText(storeKey);
        storeKeys.add(storeKey);
      }
    }
    const namespace = new Namespace(db, prefixBytes);
    const read = async (key: Uint8Array, what: string): Promise<number | undefined> => {
      const value = await namespace.get(key);
      return value === undefined ? undefined : decodeMetaVersion(value, what);
    };
    const latest = (await read(META_LATEST, 'latest version')) ?? 0;
    const earliest = (await read(META_EARLIEST, 'earliest version')) ?? 0;
    const restoring = await read(META_RESTORING, 'restore marker');
    const pruning = await read(META_PRUNING, 'prune marker');
    const clearing = (await namespace.get(META_CLEARING)) !== undefined;
    return new StorageStore(namespace, storeKeys, latest, earliest, restoring, pruning, clearing);
  }

  /** The last version applied or restored; 0 for an empty store. */
  get latestVersion(): number {
    return this.latest;
  }

  /** The first readable version: 0 until a prune or a restore (see the class notes). */
  get earliestVersion(): number {
    return this.earliest;
  }

  /**
   * The version of a restore that began but neither committed nor aborted (the process stopped
   * in between): its partial data is still there, and only `clear()` makes the store usable for a
   * new restore. `undefined` otherwise.
   */
  get pendingRestoreVersion(): number | undefined {
    return this.restoring;
  }

  /**
   * True when a `clear()` began but did not finish (crash, I/O error, close): the store reads as
   * empty but may still hold data, so commits and restores fail with `ERR_STATE` until `clear()`
   * is called again and completes.
   */
  get pendingClear(): boolean {
    return this.clearing;
  }

  /**
   * How many pairs of the pending restore (see `pendingRestoreVersion`) are durable: what a
   * `resumeRestore` will skip. 0 when no restore is pending or none was flushed yet.
   */
  async restoreCheckpoint(): Promise<number> {
    this.checkOpen();
    if (this.restoring === undefined) return 0;
    const checkpoint = await this.namespace.get(META_RESTORE_CHECKPOINT);
    return checkpoint === undefined ? 0 : decodeRestoreCheckpoint(checkpoint).keys;
  }

  /**
   * Throws `ERR_UNKNOWN_STORE` when this store was opened with `storeKeys` that do not include
   * `storeKey`, and `ERR_INVALID_ARGUMENT` for a name that is no store key at all.
   */
  checkStore(storeKey: string): void {
    this.storePrefix(storeKey);
  }

  /**
   * The value of `key` in `storeKey` at `version`: the newest entry at or below `version`, or
   * `undefined` when there is none or it is a deletion. A version above the latest reads the latest
   * state. Fails with `ERR_VERSION_PRUNED` below `earliestVersion`, `ERR_UNKNOWN_STORE`,
   * `ERR_EMPTY_KEY`, or `ERR_VERSION_RANGE` for a version that is not a safe non-negative integer.
   */
  async get(storeKey: string, version: number, key: Uint8Array): Promise<Uint8Array | undefined> {
    const { storePrefix, readVersion } = this.checkRead(storeKey, version);
    checkKey(key, 'key', storeKey);
    const ofKey = keyPrefix(storePrefix, key);
    const ns = this.namespace;
    let found: [Uint8Array, Uint8Array][];
    try {
      // Versions sort newest first, so the first entry at or after (key, version) is the newest
      // entry ≤ version, if that key has one at all.
      found = (await ns.db
        .iterator({ gte: ns.key(concatBytes(ofKey, encodeKeyVersion(readVersion))), lt: ns.key(afterKey(ofKey)), limit: 1 })
        .all()) as [Uint8Array, Uint8Array][];
    } catch (error) {
      throw wrapIoError(error, `state storage read of store ${storeKey} key ${shortHex(key)} at version ${version} failed`);
    }
    const first = found[0];
    if (first === undefined) return undefined;
    // A copy: memory-level may hand out the very array it stores.
    return decodeValue(asBytes(first[1]), asBytes(first[0]))?.slice();
  }

  /** Whether `key` is live in `storeKey` at `version` (same rules and errors as {@link get}). */
  async has(storeKey: string, version: number, key: Uint8Array): Promise<boolean> {
    return (await this.get(storeKey, version, key)) !== undefined;
  }

  /**
   * The keys live in `storeKey` at `version` within `[start, end)`, ascending, each once with its
   * value. `undefined` bounds are open; an empty bound is `ERR_EMPTY_KEY` (Go's nil vs empty
   * distinction, kept explicit) and `start > end` is `ERR_INVALID_ARGUMENT`; `start == end` is an
   * empty range. Version rules and errors as in {@link get}; errors are thrown synchronously.
   * Close the returned iterator when not reading it to the end (a `for await` loop does it).
   */
  iterator(storeKey: string, version: number, start?: Uint8Array, end?: Uint8Array): SsIterator {
    return this.openIterator(storeKey, version, start, end, false);
  }

  /** Like {@link iterator}, in descending key order (still `[start, end)`). */
  reverseIterator(storeKey: string, version: number, start?: Uint8Array, end?: Uint8Array): SsIterator {
    return this.openIterator(storeKey, version, start, end, true);
  }

  /**
   * Applies one commit: every pair of `changeset` at `version` (sets as values, deletes as
   * tombstones) and latest = `version`, in ONE atomic LevelDB batch, so after a failure nothing
   * of it is visible and the latest version has not moved. Everything is checked before anything
   * is written: `ERR_VERSION_RANGE` (version < 1), `ERR_NOT_GREATER` (version ≤ latest),
   * `ERR_UNKNOWN_STORE`, `ERR_EMPTY_KEY`, `ERR_INVALID_ARGUMENT` (a set without a value, a
   * delete with one), `ERR_STATE` (a restore or a clear in progress or unfinished, see
   * `pendingClear`). An empty changeset just
   * moves the latest version. Within one changeset a later pair for the same key wins. With
   * `sync`, the batch (and every earlier write of the database) survives an OS crash once this
   * resolves.
   */
  async applyChangeset(version: number, changeset: Changeset, options: WriteOptions = {}): Promise<void> {
    this.checkOpen();
    checkVersion(version, 'changeset version', 1);
    this.checkGreater(version, 'changeset');
    const ops = this.changesetOps(version, changeset);
    await this.queue.run(async () => {
      this.checkOpen();
      this.checkCommitAllowed(`apply changeset ${version}`);
      this.checkGreater(version, 'changeset');
      ops.push(this.namespace.put(META_LATEST, encodeMetaVersion(version)));
      await this.namespace.write(ops, options);
      this.latest = version;
    });
  }

  /**
   * Starts loading a snapshot at `version` (the migration height H) into this store; see
   * {@link RestoreWriter}. Fails with `ERR_NOT_GREATER` ("snapshot version H is not greater than
   * latest version L") when version ≤ latest, with `ERR_IMPORT_NOT_EMPTY` when the store already
   * holds data (or the remains of an interrupted restore: `clear()` it first), and with
   * `ERR_STATE` while another restore, a prune or a clear runs, or after a clear that did not
   * finish (`pendingClear`). The restore marker written here
   * is what `pendingRestoreVersion` reports after a crash.
   */
  async beginRestore(version: number, options: RestoreOptions = {}): Promise<RestoreWriter> {
    this.checkOpen();
    checkVersion(version, 'snapshot version', 1);
    const flushBytes = options.flushBytes;
    if (flushBytes !== undefined && (!Number.isSafeInteger(flushBytes) || flushBytes < 1)) {
      throw new StoreError('ERR_INVALID_ARGUMENT', `flushBytes must be a positive integer, got ${String(flushBytes)}`);
    }
    return this.queue.run(async () => {
      this.checkOpen();
      this.checkNoExclusive(`restore version ${version}`);
      this.checkNoPendingClear(`restore version ${version}`);
      if (version <= this.latest) {
        throw new StoreError('ERR_NOT_GREATER', `snapshot version ${version} is not greater than latest version ${this.latest}`, {
          details: { version, latestVersion: this.latest },
        });
      }
      if (this.restoring !== undefined) {
        throw new StoreError(
          'ERR_IMPORT_NOT_EMPTY',
          `cannot restore version ${version}: an interrupted restore to version ${this.restoring} ` +
            'left data behind; clear() the store first',
          { details: { version, pendingRestoreVersion: this.restoring } },
        );
      }
      const reader = this.namespace.range({ gte: DATA_START, lt: DATA_END, limit: 1 });
      let holdsData: boolean;
      try {
        holdsData = (await reader.next(1)).length > 0;
      } finally {
        await reader.close();
      }
      if (holdsData) {
        throw new StoreError(
          'ERR_IMPORT_NOT_EMPTY',
          `cannot restore version ${version}: the state storage already holds data (latest version ${this.latest})`,
          { details: { version, latestVersion: this.latest } },
        );
      }
      await this.namespace.write([this.namespace.put(META_RESTORING, encodeMetaVersion(version))]);
      this.restoring = version;
      this.exclusive = `a restore to version ${version}`;
      return RestoreWriter.start(this.restoreHost(), version, flushBytes);
    });
  }

  /**
   * Continues a restore to `version` that a crash interrupted: returns a writer that already
   * counts the pairs the last durable flush recorded (`resumedKeys`); the caller skips that many
   * leaves of the snapshot stream, checks that the last one skipped is `resumedLast`, and adds the
   * rest. `ERR_STATE` when no restore to `version` is
   * pending.
   */
  async resumeRestore(version: number, options: RestoreOptions = {}): Promise<RestoreWriter> {
    this.checkOpen();
    checkVersion(version, 'snapshot version', 1);
    return this.queue.run(async () => {
      this.checkOpen();
      if (this.restoring !== version) {
        throw new StoreError('ERR_STATE', `no interrupted restore to version ${version} to resume (pending: ${this.restoring ?? 'none'})`, {
          details: { version, pendingRestoreVersion: this.restoring ?? null },
        });
      }
      this.checkNoExclusive(`resume the restore to version ${version}`);
      const checkpoint = await this.namespace.get(META_RESTORE_CHECKPOINT);
      const resumed = checkpoint === undefined ? { keys: 0 } : decodeRestoreCheckpoint(checkpoint);
      this.exclusive = `a restore to version ${version}`;
      return RestoreWriter.start(this.restoreHost(), version, options.flushBytes, resumed.keys, resumed.last);
    });
  }

  /**
   * The Observable form of a restore at `version`: cold (nothing happens before subscribing),
   * emits cumulative `{ keys, bytes }` after every flush and once more after the commit, then
   * completes. On error, or when unsubscribed before completion, the partial restore is wiped.
   * Memory is bounded only for a pull-based source: a {@link BatchReader} is read one batch at a
   * time, the next only after the previous one is buffered and, if due, flushed; an Observable
   * has no backpressure, so a source faster than the disk piles up in the write buffer.
   */
  restore(
    version: number,
    pairs: Observable<RestorePair> | BatchReader<RestorePair>,
    options: RestoreOptions = {},
  ): Observable<RestoreProgress> {
    const readBatch = options.readBatch;
    if (readBatch !== undefined && (!Number.isSafeInteger(readBatch) || readBatch < 1)) {
      throw new StoreError('ERR_INVALID_ARGUMENT', `readBatch must be a positive integer, got ${String(readBatch)}`);
    }
    return restoreFrom(() => this.beginRestore(version, options), pairs, options.readBatch);
  }

  /**
   * Drops history below `version`: afterwards reads below it fail with `ERR_VERSION_PRUNED` and
   * reads at or above it see exactly what they saw before (see `ss-prune.ts` for what is deleted).
   * The new earliest version is persisted *before* anything is deleted, together with a "prune
   * unfinished" marker that the last delete batch removes: a prune that stops half-way (crash,
   * I/O error) can only make versions unreadable, never answer a read wrongly, and the next
   * `prune` call (at any version, even one at or below `earliestVersion`) finishes it. Deletes go
   * out in atomic batches; commits may interleave. Otherwise a version at or below
   * `earliestVersion` is a no-op; above `latestVersion` it is `ERR_VERSION_RANGE`; during a
   * restore or another prune, `ERR_STATE`.
   */
  async prune(version: number, options: PruneOptions = {}): Promise<PruneResult> {
    this.checkOpen();
    checkVersion(version, 'prune version', 0);
    const batchSize = options.batchSize ?? DEFAULT_PRUNE_BATCH;
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new StoreError('ERR_INVALID_ARGUMENT', `prune batchSize must be a positive integer, got ${String(batchSize)}`);
    }
    if (version > this.latest) {
      throw new StoreError('ERR_VERSION_RANGE', `cannot prune to version ${version}: the latest version is ${this.latest}`, {
        details: { version, latestVersion: this.latest },
      });
    }
    this.checkNoExclusive(`prune to version ${version}`);
    const target = Math.max(version, this.earliest);
    if (target === this.earliest && this.pruning === undefined) return { scanned: 0, deleted: 0 };
    this.exclusive = `a prune to version ${target}`;
    return this.runExclusive(async () => {
      const ns = this.namespace;
      await this.queue.run(async () => {
        const marker = encodeMetaVersion(target);
        await ns.write([ns.put(META_EARLIEST, marker), ns.put(META_PRUNING, marker)]);
        this.earliest = target;
        this.pruning = target;
      });
      const result = await pruneData(ns, this.queue, target, {
        batchSize,
        finalOps: [ns.del(META_PRUNING)],
        stopped: () => this.closed,
      });
      this.pruning = undefined;
      return result;
    });
  }

  /**
   * Deletes everything of this store (data and metadata) in batches: latest and earliest go back
   * to 0. Metadata goes first, with an "unfinished clear" marker that goes last, so a clear that
   * stops half-way (crash, I/O error, close) leaves a store that reads as empty and refuses
   * commits and restores (`pendingClear`, `ERR_STATE`) until cleared again: its leftover entries
   * can never reappear under later commits. For wiping the remains of an
   * interrupted restore; `ERR_STATE` while a restore or a prune runs.
   */
  async clear(): Promise<void> {
    this.checkOpen();
    this.checkNoExclusive('clear the state storage');
    this.exclusive = CLEARING;
    await this.runExclusive(async () => {
      const ns = this.namespace;
      await this.queue.run(async () => {
        // The marker lands with the metadata deletes and goes only after the last data delete:
        // until then commits and restores are refused (see `pendingClear`), also after a restart.
        await ns.write([
          ns.del(META_LATEST),
          ns.del(META_EARLIEST),
          ns.del(META_RESTORING),
          ns.del(META_RESTORE_CHECKPOINT),
          ns.del(META_PRUNING),
          ns.put(META_CLEARING, Uint8Array.of(1)),
        ]);
        this.latest = 0;
        this.earliest = 0;
        this.pruning = undefined;
        this.restoring = undefined;
        this.clearing = true;
      });
      const reader = ns.range();
      try {
        for (;;) {
          this.checkOpen();
          const entries = await reader.next(DEFAULT_PRUNE_BATCH);
          if (entries.length === 0) break;
          const ops = entries.filter(([key]) => !equalBytes(key, META_CLEARING)).map(([key]) => ns.del(key));
          await this.queue.run(() => ns.write(ops));
        }
      } finally {
        await reader.close();
      }
      this.checkOpen();
      await this.queue.run(() => ns.write([ns.del(META_CLEARING)]));
      this.clearing = false;
    });
  }

  /**
   * Closes the store: open iterators are closed (a read under way or later fails with
   * `ERR_CLOSED`, never looks like the end of the range), queued writes finish, a running prune or clear
   * stops after its current batch (a prune is finished by the next `prune` after reopening), an
   * open restore writer refuses further calls (the restore stays unfinished, as after a crash),
   * and every later call fails with `ERR_CLOSED`. The database itself stays open (the store does
   * not own it). Idempotent.
   */
  async close(): Promise<void> {
    this.closed = true;
    const closing = new StoreError('ERR_CLOSED', 'the state storage was closed during the iteration');
    await Promise.all([...this.iterators].map((it) => it.abort(closing).catch(() => undefined)));
    await this.running?.catch(() => undefined);
    await this.queue.idle();
  }

  /** Runs a prune or clear (already marked in `exclusive`), so `close()` can wait for it. */
  private async runExclusive<T>(task: () => Promise<T>): Promise<T> {
    const running = task();
    this.running = running;
    try {
      return await running;
    } finally {
      this.running = undefined;
      this.exclusive = undefined;
    }
  }

  private openIterator(
    storeKey: string,
    version: number,
    start: Uint8Array | undefined,
    end: Uint8Array | undefined,
    reverse: boolean,
  ): SsIterator {
    const { storePrefix, readVersion } = this.checkRead(storeKey, version);
    if (start !== undefined) checkKey(start, 'iterator start', storeKey);
    if (end !== undefined) checkKey(end, 'iterator end', storeKey);
    if (start !== undefined && end !== undefined && compareBytes(start, end) > 0) {
      throw new StoreError(
        'ERR_INVALID_ARGUMENT',
        `iterator start ${shortHex(start)} is after end ${shortHex(end)} in store ${storeKey}`,
        { details: { storeKey, start: toHex(start), end: toHex(end) } },
      );
    }
    const ns = this.namespace;
    const iterator: SsIterator = SsIterator.open({
      db: ns.db,
      storeStart: ns.key(storePrefix),
      // By the prefix-freeness of esc (ss-key.ts), every version of every key ≥ start sorts at or
      // after (store, start), and every version of every key < end sorts before (store, end).
      gte: ns.key(start === undefined ? storePrefix : keyPrefix(storePrefix, start)),
      lt: ns.key(end === undefined ? afterKey(storePrefix) : keyPrefix(storePrefix, end)),
      version: readVersion,
      reverse,
      onClose: () => this.iterators.delete(iterator),
    });
    this.iterators.add(iterator);
    return iterator;
  }

  /** Validates a read; returns the store's data prefix and the version clamped to the latest. */
  private checkRead(storeKey: string, version: number): { storePrefix: Uint8Array; readVersion: number } {
    this.checkOpen();
    checkVersion(version, 'version', 0);
    const storePrefix = this.storePrefix(storeKey);
    if (version < this.earliest) {
      throw new StoreError(
        'ERR_VERSION_PRUNED',
        `version ${version} of store ${storeKey} is pruned: ` +
          `the earliest available version is ${this.earliest} (requested ${version})`,
        { details: { storeKey, earliestVersion: this.earliest, requestedVersion: version } },
      );
    }
    return { storePrefix, readVersion: Math.min(version, this.latest) };
  }

  private storePrefix(storeKey: string): Uint8Array {
    const cached = this.prefixCache.get(storeKey);
    if (cached !== undefined) return cached;
    checkStoreKeyText(storeKey);
    if (this.storeKeys !== undefined && !this.storeKeys.has(storeKey)) {
      const known = [...this.storeKeys].sort().join(', ');
      throw new StoreError('ERR_UNKNOWN_STORE', `store ${storeKey} not found (known stores: ${known})`, {
        details: { storeKey },
      });
    }
    const prefix = storeDataPrefix(storeKey);
    if (this.prefixCache.size < MAX_CACHED_STORE_PREFIXES) this.prefixCache.set(storeKey, prefix);
    return prefix;
  }

  /** Validates every pair and builds the batch; throws before anything is written. */
  private changesetOps(version: number, changeset: Changeset): WriteOp[] {
    checkChangeset(version, changeset);
    const ops: WriteOp[] = [];
    for (const group of changeset.changes) {
      const storePrefix = this.storePrefix(group.storeKey);
      for (const pair of group.pairs) {
        ops.push(this.namespace.putPrefixed(dataKey(storePrefix, pair.key, version, this.namespace.prefix), encodeValue(pair.remove ? undefined : pair.value)));
      }
    }
    return ops;
  }

  private checkGreater(version: number, what: string): void {
    if (version <= this.latest) {
      throw new StoreError('ERR_NOT_GREATER', `${what} version ${version} is not greater than latest version ${this.latest}`, {
        details: { version, latestVersion: this.latest },
      });
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new StoreError('ERR_CLOSED', 'the state storage is closed');
  }

  /** Commits may interleave with a prune, but not with a restore or a clear. */
  private checkCommitAllowed(what: string): void {
    if (this.restoring !== undefined) {
      throw new StoreError('ERR_STATE', `cannot ${what}: a restore to version ${this.restoring} is in progress or unfinished`, {
        details: { restoreVersion: this.restoring },
      });
    }
    if (this.exclusive === CLEARING) {
      throw new StoreError('ERR_STATE', `cannot ${what}: ${CLEARING} is in progress`, { details: { running: CLEARING } });
    }
    this.checkNoPendingClear(what);
  }

  private checkNoPendingClear(what: string): void {
    if (this.clearing) {
      throw new StoreError('ERR_STATE', `cannot ${what}: an unfinished clear of the state storage left data behind; clear() it again`, {
        details: { pendingClear: true },
      });
    }
  }

  private checkNoExclusive(what: string): void {
    if (this.exclusive !== undefined) {
      throw new StoreError('ERR_STATE', `cannot ${what}: ${this.exclusive} is in progress`, {
        details: { running: this.exclusive },
      });
    }
  }

  private restoreHost(): RestoreHost {
    return {
      namespace: this.namespace,
      queue: this.queue,
      storePrefix: (storeKey) => this.storePrefix(storeKey),
      checkOpen: () => this.checkOpen(),
      committed: (version) => {
        this.latest = version;
        this.earliest = version;
        this.restoring = undefined;
        this.exclusive = undefined;
      },
      suspended: () => {
        // The data and the restore marker stay: `resumeRestore` can continue from the checkpoint.
        this.exclusive = undefined;
      },
      released: () => {
        this.restoring = undefined;
        this.exclusive = undefined;
      },
    };
  }
}

/** A user key (or iterator bound) must be a non-empty Uint8Array. */
function checkKey(key: unknown, what: string, storeKey: string): asserts key is Uint8Array {
  if (!(key instanceof Uint8Array)) {
    throw new StoreError('ERR_INVALID_ARGUMENT', `${what} in store ${storeKey} must be a Uint8Array`, { details: { storeKey } });
  }
  if (key.length === 0) {
    throw new StoreError('ERR_EMPTY_KEY', `${what} in store ${storeKey} must not be empty`, { details: { storeKey } });
  }
}


