/**
 * Where the root store keeps its parts: the prefixes of the store/v2 database, and the one prefix
 * it adds to store/v1's `application.db`. Offline tools (the CLI's `migrate`, `verify`, `inspect`)
 * read and write the same layout, so it is defined once here.
 */
export const V2_LAYOUT = {
  /** The State Commitment (IAVL trees and commit infos). */
  sc: 'sc/',
  /** The State Storage (flat versioned index). */
  ss: 'ss/',
  /** After the switch, the last changeset is logged in its commitment batch until the SS has it. */
  log: 'log/',
  /** The durable migration record (`root/migration`). */
  root: 'root/',
} as const;

/** The migration's changeset log, in store/v1's database, written in each v1 commit batch. */
export const V1_MIGRATION_LOG_PREFIX = 'rxsm/log/';
