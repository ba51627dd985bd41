/** Two tiers: `unit` never needs Docker (real-tool checks skip with a reason when a tool is absent);
 *  `docker` brings labs up and runs in band. */
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: { warnOnly: false } }] },
};
module.exports = {
  testTimeout: 600000,
  reporters: ['default', ['jest-junit', { outputDirectory: 'reports', outputName: 'junit-tests.xml' }]],
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/tests/unit/**/*.test.ts'] },
    { ...common, displayName: 'docker', testMatch: ['<rootDir>/tests/docker/**/*.test.ts'] },
  ],
};
