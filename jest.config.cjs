/** Jest runs the ESM TypeScript sources through SWC as CommonJS; `./x.js` imports map to `./x`. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/marbles'],
  testMatch: ['**/*.spec.ts', '**/*.test.ts'],
  transform: {
    '^.+\\.(t|j)s$': [
      '@swc/jest',
      {
        jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleNameMapper: {
    // The export worker runs compiled code (dist/, built by the global setup): see the mapped file.
    '^(\\.{1,2}/.*)?export-worker-url(\\.js)?$': '<rootDir>/test/support/export-worker-url.cjs',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testTimeout: 60000,
  globalSetup: '<rootDir>/test/global-setup.cjs',
};
