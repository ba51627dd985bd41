import { GATE_WAIT_MS, machineGate } from '../../harness/gate';

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

/**
 * Runs a CPU-heavy tool (javac, a JVM, a browser) holding a share of the machine gate
 * (harness/gate.ts), as a lab's start does: in `make test` the Docker tests run beside timed
 * checks, whose stalls and recovery times must not be made by a tool the gate does not see.
 */
export function withShare<T>(what: string, body: () => Promise<T>): Promise<T> {
  return machineGate().holding('share', { what, timeoutMs: GATE_WAIT_MS }, body);
}
