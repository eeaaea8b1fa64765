/** jest in native ESM mode (NestJS 12 is ESM-only); SWC transpiles TypeScript. */
const swc = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true },
    target: 'es2022',
  },
  module: { type: 'es6' },
};

export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', swc] },
  moduleNameMapper: {
    '^@nicvisor/(openflow|softswitch|tenancy|storage)$': '<rootDir>/libs/$1/src/index.ts',
    '^@nicvisor/(openflow|softswitch|tenancy|storage)/(.*)\\.js$': '<rootDir>/libs/$1/src/$2.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testMatch: ['<rootDir>/libs/**/*.spec.ts', '<rootDir>/apps/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  // Interop tests (real Open vSwitch, tshark, ovs-ofctl) run serially in their own pass: jest.interop.config.js.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/interop/'],
  testTimeout: 30000,
};
