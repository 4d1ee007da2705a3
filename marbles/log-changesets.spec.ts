import { logChangesets } from '../src/migration/operators/log-changesets.js';
import { cs, testScheduler } from './support.js';

describe('logChangesets', () => {
  it('acknowledges each version only after its durable write, in arrival order', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const commits = hot('--a-----b-------|', { a: cs(101), b: cs(102) });
      const append = () => cold('---|');
      expectObservable(commits.pipe(logChangesets(append))).toBe('-----1-----2----|', { 1: 101, 2: 102 });
    });
  });

  it('never reorders: a slow first write holds back the second acknowledgement', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const commits = hot('--a-b-|', { a: cs(101), b: cs(102) });
      const writes = { 101: cold('------|'), 102: cold('-|') };
      const append = (entry: { version: number }) => writes[entry.version as 101 | 102];
      expectObservable(commits.pipe(logChangesets(append))).toBe('--------1(2|)', { 1: 101, 2: 102 });
    });
  });

  it('fails with the write error and logs nothing after it', () => {
    testScheduler().run(({ cold, hot, expectObservable }) => {
      const commits = hot('--a--b--|', { a: cs(101), b: cs(102) });
      const append = (entry: { version: number }) => (entry.version === 101 ? cold('-#', {}, new Error('disk full')) : cold('-|'));
      expectObservable(commits.pipe(logChangesets(append))).toBe('---#', {}, new Error('disk full'));
    });
  });
});
