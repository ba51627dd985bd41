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
  // test.concurrent (the self-test's broken labs side by side): how many at once. A lab alive costs
  // CPU between its checks (Docker's health probes), so one per two cores (harness/gate.ts); their
  // starts and checks also take their turn at the machine gate. One swarm: one stack at a time.
  maxConcurrency: Number(process.env.CARBON_LABS_SELFTEST_PARALLEL ?? (process.env.CARBON_LABS_TARGET === 'swarm' ? 1 : Math.max(1, Math.floor(require('os').cpus().length / 2)))),
  // jest-junit writes where JEST_JUNIT_OUTPUT_DIR / JEST_JUNIT_OUTPUT_NAME say (set by the Makefile).
  reporters: ['default', ['jest-junit', { suiteNameTemplate: '{displayName} {filepath}' }]],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'] },
    { ...common, displayName: 'docker', testMatch: ['<rootDir>/tests/docker/**/*.test.ts'] },
  ],
};
