import { crc32 } from 'node:zlib';
import { ByteWriter } from '../core/byte-writer.js';
import { decodeChangeset, encodeChangeset, type VersionedChangeset } from '../core/changeset.js';
import { changesetLogKey, changesetLogPrefix, parseChangesetLogKey } from '../core/changeset-log-key.js';
import { StoreError } from '../core/errors.js';
import { checkVersion, versionFromBigInt } from '../core/version.js';
import type { Namespace, WriteOp } from '../db/namespace.js';

const HEADER = 12; // BE64 version ‖ BE32 CRC-32 of the changeset bytes

/**
 * The durable changeset log of a migration: every changeset committed to store/v1 during the
 * migration, under `m/cs_<16 hex digits>` (formats.md §7), so the restore and the replay never
 * need an in-memory queue. Values are `BE64(version) ‖ BE32(crc32) ‖ changeset`: Go stored only
 * the changeset, with no way to detect a torn or misplaced entry.
 */
export class ChangesetLog {
  private constructor(
    /** @internal */
    readonly ns: Namespace,
  ) {}

  /** @internal The log in `ns`; users get theirs from `MigrationManager.log` or `RootStore.migrationLog`. */
  static in(ns: Namespace): ChangesetLog {
    return new ChangesetLog(ns);
  }

  /** Encodes one log entry value. */
  static encodeEntry(entry: VersionedChangeset): Uint8Array {
    const body = encodeChangeset(entry.changeset);
    const header = new Uint8Array(HEADER);
    const view = new DataView(header.buffer);
    view.setBigUint64(0, BigInt(checkVersion(entry.version, 'changeset version', 1)));
    view.setUint32(8, crc32(body));
    return new ByteWriter(HEADER + body.length).raw(header).raw(body).finish();
  }

  /** Decodes and checks one log entry value stored under the key of `version`. */
  static decodeEntry(version: number, value: Uint8Array): VersionedChangeset {
    if (value.length < HEADER) {
      throw new StoreError('ERR_CHECKSUM', `changeset log entry ${version} is truncated (${value.length} bytes)`, {
        details: { version },
      });
    }
    const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
    const stored = versionFromBigInt(view.getBigUint64(0), 'logged version');
    if (stored !== version) {
      throw new StoreError('ERR_CHECKSUM', `changeset log entry under version ${version} says version ${stored}`, {
        details: { version, stored },
      });
    }
    const body = value.subarray(HEADER);
    if (crc32(body) !== view.getUint32(8)) {
      throw new StoreError('ERR_CHECKSUM', `changeset log entry ${version} fails its CRC-32 check`, { details: { version } });
    }
    return { version, changeset: decodeChangeset(body) };
  }

  /** The write that stores `entry`, for a caller that makes it durable with other writes. */
  entryOp(entry: VersionedChangeset): WriteOp {
    return this.ns.put(changesetLogKey(entry.version), ChangesetLog.encodeEntry(entry));
  }

  /** The write that removes the entry of `version`. */
  deleteOp(version: number): WriteOp {
    return this.ns.del(changesetLogKey(version));
  }

  /** Durably appends `entry` (one LevelDB write). */
  async append(entry: VersionedChangeset): Promise<void> {
    await this.ns.write([this.ns.put(changesetLogKey(entry.version), ChangesetLog.encodeEntry(entry))]);
  }

  /** The logged changeset of `version`, or `undefined`. */
  async read(version: number): Promise<VersionedChangeset | undefined> {
    const value = await this.ns.get(changesetLogKey(version));
    return value === undefined ? undefined : ChangesetLog.decodeEntry(version, value);
  }

  /** Highest logged version, or 0 when the log is empty. */
  async latest(): Promise<number> {
    return this.edge(true);
  }

  /** Lowest logged version, or 0 when the log is empty. */
  async first(): Promise<number> {
    return this.edge(false);
  }

  private async edge(reverse: boolean): Promise<number> {
    const prefix = changesetLogPrefix();
    const reader = this.ns.range({ gte: prefix, lt: upperBound(prefix), reverse, limit: 1 });
    try {
      const [entry] = await reader.next(1);
      return entry === undefined ? 0 : versionFromBigInt(parseChangesetLogKey(entry[0]), 'logged version');
    } finally {
      await reader.close();
    }
  }

  /** Deletes every entry up to `version` inclusive (applied and no longer needed), in one batch. */
  async trim(version: number): Promise<number> {
    const prefix = changesetLogPrefix();
    const reader = this.ns.range({ gte: prefix, lt: changesetLogKey(version + 1) });
    let removed = 0;
    try {
      for (;;) {
        const entries = await reader.next(1000);
        if (entries.length === 0) break;
        await this.ns.write(entries.map(([key]) => this.ns.del(key)));
        removed += entries.length;
      }
    } finally {
      await reader.close();
    }
    return removed;
  }
}

function upperBound(prefix: Uint8Array): Uint8Array {
  const out = Uint8Array.from(prefix);
  out[out.length - 1]!++;
  return out;
}
