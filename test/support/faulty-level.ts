import type { LevelDb } from '../../src/db/level-db.js';

/** Which operations to fail: the `nth` (1-based) write or read from now on, once. */
export interface FaultPlan {
  failWriteAt?: number;
  failReadAt?: number;
}

/**
 * Wraps an abstract-level database so that the Nth write (batch, put, del) or read (get,
 * getMany, getSync, iterator nextv) fails with an I/O-like error, exactly once. Counting starts when the
 * plan is set; `reads` and `writes` tell how many happened.
 */
export class FaultyLevel {
  writes = 0;
  reads = 0;
  injected = 0;
  private plan: FaultPlan = {};
  readonly db: LevelDb;

  constructor(private readonly inner: LevelDb) {
    const self = this;
    const fail = (what: string) => {
      self.injected++;
      return Promise.reject(Object.assign(new Error(`injected ${what} fault`), { code: 'LEVEL_IO_ERROR' }));
    };
    const shouldFailWrite = () => ++self.writes === self.plan.failWriteAt;
    const shouldFailRead = () => ++self.reads === self.plan.failReadAt;
    this.db = new Proxy(inner, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        switch (property) {
          case 'batch':
            return (...args: unknown[]) => {
              if (args.length > 0) return shouldFailWrite() ? fail('write') : (value as (...a: unknown[]) => unknown).apply(target, args);
              // A chained batch fails when it is written.
              const chained = (value as () => { write: (...a: unknown[]) => Promise<void>; close: () => Promise<void> }).apply(target);
              const write = chained.write.bind(chained);
              chained.write = (...a: unknown[]) => (shouldFailWrite() ? chained.close().then(() => fail('write')) : write(...a));
              return chained;
            };
          case 'put':
          case 'del':
            return (...args: unknown[]) => (shouldFailWrite() ? fail('write') : (value as (...a: unknown[]) => unknown).apply(target, args));
          case 'get':
          case 'getMany':
            return (...args: unknown[]) => (shouldFailRead() ? fail('read') : (value as (...a: unknown[]) => unknown).apply(target, args));
          case 'getSync':
            return (...args: unknown[]) => {
              if (shouldFailRead()) {
                self.injected++;
                throw Object.assign(new Error('injected read fault'), { code: 'LEVEL_IO_ERROR' });
              }
              return (value as (...a: unknown[]) => unknown).apply(target, args);
            };
          case 'iterator':
            return (...args: unknown[]) => {
              const iterator = (value as (...a: unknown[]) => { nextv: (...a: unknown[]) => Promise<unknown> }).apply(target, args);
              const nextv = iterator.nextv.bind(iterator);
              iterator.nextv = (...a: unknown[]) => (shouldFailRead() ? fail('read') : nextv(...a));
              return iterator;
            };
          default:
            return (value as (...a: unknown[]) => unknown).bind(target);
        }
      },
    }) as LevelDb;
  }

  /** Arms a fault `afterWrites` writes / `afterReads` reads from now. */
  arm(plan: { afterWrites?: number; afterReads?: number }): void {
    this.plan = {
      ...(plan.afterWrites === undefined ? {} : { failWriteAt: this.writes + plan.afterWrites }),
      ...(plan.afterReads === undefined ? {} : { failReadAt: this.reads + plan.afterReads }),
    };
  }

  disarm(): void {
    this.plan = {};
  }

  get underlying(): LevelDb {
    return this.inner;
  }
}
