/**
 * Suites that need a tool on the host: a visible skip outside CI when it is missing, and a failure
 * in CI (`.ci/run` installs it). `base` is `describe` or the Docker-gated `describeDocker`.
 */
export function describeWithTool(present: boolean, what: string, install: string, base: jest.Describe = describe): jest.Describe {
  if (present) return base;
  if (process.env.CI) throw new Error(`CI must run ${what}, but it is missing here: ${install}`);
  process.stdout.write(`SKIPPED: ${what} (${install})\n`);
  return describe.skip;
}
