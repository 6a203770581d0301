// ESM + TypeScript through @swc/jest: ts-jest does not support TypeScript 7, and
// @platformatic/kafka is ESM-only, so Jest runs with --experimental-vm-modules.
const transform = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'es6' } }],
};
const common = { extensionsToTreatAsEsm: ['.ts'], transform, testEnvironment: 'node' };

export default {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/examples/**/*.unit.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts', '<rootDir>/examples/**/*.integration.test.ts'],
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
  // Integration files share one broker; two workers keep a 2-core machine responsive.
  maxWorkers: 2,
  // Integration tests wait on real services; unit tests finish far below this.
  testTimeout: 120_000,
};
