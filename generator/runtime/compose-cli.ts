import type { IDockerComposeOptions, IDockerComposeResult } from 'docker-compose';
import { downAll, upAll, upMany } from 'docker-compose';
import { LabError } from '../errors';

/**
 * Docker Compose v2 through the docker-compose npm package, each command with a deadline: the
 * package spawns `docker compose` without one, so it is spawned under coreutils' `timeout`, which
 * ends it (exit 124) at the deadline. The only importer of docker-compose (an ESLint rule says so).
 */
export interface ComposeCall {
  readonly cwd: string;
  readonly files?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  readonly commandOptions?: readonly string[];
  /** A project by name (`-p`), for one whose folder is gone. */
  readonly project?: string;
  /** Seconds the command may take; `up` waits for the services its dependants need healthy. */
  readonly seconds: number;
}

function options(call: ComposeCall): IDockerComposeOptions {
  return {
    cwd: call.cwd,
    ...(call.files ? { config: [...call.files] } : {}),
    ...(call.env ? { env: call.env } : {}),
    ...(call.commandOptions ? { commandOptions: [...call.commandOptions] } : {}),
    ...(call.project ? { composeOptions: ['-p', call.project] } : {}),
    executable: { executablePath: 'timeout', options: ['--kill-after=10s', `${Math.ceil(call.seconds)}s`, 'docker'] },
  };
}

/** The last lines of what compose said, or that the deadline ended it. */
function failure(what: string, call: ComposeCall) {
  return (e: Partial<IDockerComposeResult> | Error): never => {
    if (e instanceof Error) throw new LabError(`docker compose ${what} could not run: ${e.message}`);
    const said = (e.err ?? '').trim().split('\n').slice(-6).join('\n');
    if (e.exitCode === 124 || e.exitCode === 137) throw new LabError(`docker compose ${what} in ${call.cwd} did not end within ${call.seconds} s and was stopped${said ? `:\n${said}` : ''}`, 'docker info (is the engine busy?), then run again');
    throw new LabError(`docker compose ${what} failed in ${call.cwd}:\n${said}`);
  };
}

/** `docker compose up -d` of every service, or only of `services` (and what they depend on). */
export async function composeUp(call: ComposeCall, services?: readonly string[]): Promise<void> {
  await (services ? upMany([...services], options(call)) : upAll(options(call))).catch(failure('up', call));
}

/** `docker compose down` of the project in `cwd` (the command options say what else goes). */
export async function composeDown(call: ComposeCall): Promise<void> {
  await downAll(options(call)).catch(failure('down', call));
}
