import { EXIT } from './errors.js';

/**
 * Ctrl-C handling: the first SIGINT aborts the returned signal so the running command can stop
 * cleanly (unsubscribe the migration, close the stores and databases); a second one exits at once.
 * `dispose` removes the handlers.
 */
export function interruptSignal(onFirst?: () => void): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const handler = (): void => {
    if (controller.signal.aborted) {
      process.stderr.write('\nstopping now (second Ctrl-C)\n');
      process.exit(EXIT.interrupted);
    }
    onFirst?.();
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
