/** Two tiers: `unit` never needs Docker (real-tool checks skip with a reason when a tool is absent);
 *  `docker` (contract, wiring, self-test) brings labs up and runs in band. Conformance is no Jest
 *  test: `carbon-labs conformance` runs the checks with their own deadlines (harness/main.ts). */
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  // Transpiled file by file (tsconfig.jest.json: isolatedModules), not type-checked again per test
  // file: `tsc -p tsconfig.tests.json` type-checks every source and test first (make test, test-unit).
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] },
  setupFiles: ['<rootDir>/tests/support/dispose.ts'],
};
module.exports = {
  testTimeout: 600000,
  // Two test files at once even on two cores (jest's default is one less than the cores): the unit
  // tests wait on the processes they start (the CLI, nginx -t, openssl, keytool) more than they
  // compute; measured here, 79 s with one worker, 49 s with two. Docker suites run in band.
  maxWorkers: Math.max(2, require('os').cpus().length - 1),
  // test.concurrent: every self-test fault is started at once and waits for its turn in its stream
  // (tests/docker/selftest.test.ts: one stream per share of the machine, harness/gate.ts).
  maxConcurrency: 100,
  // jest-junit writes where JEST_JUNIT_OUTPUT_DIR / JEST_JUNIT_OUTPUT_NAME say (set by the Makefile).
  reporters: ['default', ['jest-junit', { suiteNameTemplate: '{displayName} {filepath}' }]],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'] },
    { ...common, displayName: 'docker', testMatch: ['<rootDir>/tests/docker/**/*.test.ts'] },
  ],
};
