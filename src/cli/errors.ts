import { isStoreError } from '../core/errors.js';

/**
 * Exit codes of `rx-store-migration`, following `diff`/`cmp`: 0 all good, 1 a verification found a
 * difference, 2 trouble (bad arguments, a missing or locked database, any other failure), 130 stopped
 * by Ctrl-C (SIGINT).
 */
export const EXIT = {
  ok: 0,
  mismatch: 1,
  error: 2,
  interrupted: 130,
} as const;

/** A failure whose message is already the one line the user should read. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode: number = EXIT.error,
  ) {
    super(message);
  }
}

/** Raised when the user pressed Ctrl-C: the command stopped cleanly. */
export class InterruptedError extends CliError {
  constructor(what: string) {
    super(`interrupted: ${what}`, EXIT.interrupted);
  }
}

/**
 * One line naming the cause of `error`: a locked database says so (and what to do), a store error
 * keeps its message and its stable code, anything else its message.
 */
export function describeError(error: unknown): string {
  let line: string;
  if (error instanceof CliError) line = error.message;
  else if (isStoreError(error)) {
    const details = error.details as { locked?: unknown; path?: unknown };
    if (details.locked === true) {
      line = `database at ${String(details.path)} is locked by another process (stop the node or the other rx-store-migration using it)`;
    } else {
      line = `${error.message} [${error.code}]`;
    }
  } else if (error instanceof Error) line = error.message;
  else line = String(error);
  return line.replace(/\s*\n\s*/g, ' ').trim();
}

/** The exit code for `error`. */
export function exitCodeOf(error: unknown): number {
  return error instanceof CliError ? error.exitCode : EXIT.error;
}
