/** Two tiers: `unit` never needs Docker (real-tool checks skip with a reason when a tool is absent);
 *  `docker` (contract, wiring, self-test) brings labs up and runs in band. Conformance is no Jest
 *  test: `carbon-labs conformance` runs the checks with their own deadlines (harness/main.ts). */
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: { warnOnly: false } }] },
  setupFiles: ['<rootDir>/tests/support/dispose.ts'],
};
module.exports = {
  testTimeout: 600000,
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
