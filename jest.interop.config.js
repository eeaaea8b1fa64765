/** The interop pass: real peers, one test file at a time (run with --runInBand). */
import base from './jest.config.js';

export default {
  ...base,
  testMatch: ['<rootDir>/test/interop/**/*.spec.ts'],
  testPathIgnorePatterns: ['/node_modules/'],
  testTimeout: 120000,
  // CI's log lists every interop test by name, so it shows they ran.
  verbose: true,
};
