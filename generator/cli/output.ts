/** What the CLI prints and how it hands the terminal to docker: progress and errors on stderr, data on stdout. */
import { join } from 'path';
import { LabError } from '../errors';
import { ContainerState } from '../runtime/lab';
import { runAttached } from '../runtime/exec';
import { speak } from '../hints';

/** Diagnostics and progress go to stderr; data (URLs, states, JSON) to stdout. */
export const log = (line: string) => process.stderr.write(`carbon-labs: ${speak(line)}\n`);

export const print = (line: string) => process.stdout.write(`${line}\n`);

export const healthy = (states: readonly ContainerState[]) =>
  states.length > 0 &&
  states.every((s) => (s.state === 'running' && (s.health === undefined || s.health === 'healthy')) || s.exitCode === 0);

/**
 * A docker command attached to this terminal; its exit code. `timeoutMs` undefined only where
 * the user ends it (`logs -f`, an `exec` shell): everything else the CLI runs has a deadline.
 */
export function attachedDocker(args: readonly string[], timeoutMs: number | undefined): number {
  const r = runAttached('docker', args, timeoutMs);
  if (r.error)
    throw new LabError(
      `docker could not run: ${r.error.message}`,
      'install Docker with Compose v2 (on Debian as root: bash scripts/provision-docker.sh)',
    );
  return r.status ?? 1;
}

export const compose = (dir: string, args: readonly string[], timeoutMs: number | undefined) =>
  attachedDocker(['compose', '--project-directory', dir, '-f', join(dir, 'docker-compose.yml'), ...args], timeoutMs);

/** The version of the shape of `list --json` and `status --json` (raised when a field changes meaning or goes). */
export const JSON_SCHEMA_VERSION = 1;

/** `status` and `list` answer within seconds: a container the engine cannot inspect in time is "engine busy". */
export const STATUS_MS = 5_000;

/** How long a one-shot `logs` (no `-f`) may take to print. */
export const LOGS_MS = 60_000;
