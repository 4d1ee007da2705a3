import { StoreError } from '../../src/core/errors.js';

/** The error `fn` throws; fails the test when it returns normally. */
export function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

/** The StoreError `fn` throws; any other outcome fails the test. */
export function caughtStoreError(fn: () => unknown): StoreError {
  const error = caught(fn);
  if (error instanceof StoreError) return error;
  throw error;
}

/** The StoreError a promise rejects with; fulfilment or another error type fails the test. */
export async function errorOf(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}
