import type { IDockerComposeOptions, IDockerComposeResult } from 'docker-compose';
import { downAll, execCompose, stopMany, upAll, upMany } from 'docker-compose';
import { LabError } from '../errors';
import { run } from './exec';
import { readFileSync, rmSync, writeFileSync } from 'fs';
import { join } from 'path';
import YAML from 'yaml';

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
    if (e.exitCode === 124 || e.exitCode === 137)
      throw new LabError(
        `docker compose ${what} in ${call.cwd} did not end within ${call.seconds} s and was stopped${said ? `:\n${said}` : ''}`,
        'docker info (is the engine busy?), then run again',
      );
    throw new LabError(`docker compose ${what} failed in ${call.cwd}:\n${said}`);
  };
}

/** `docker compose up -d` of every service, or only of `services` (and what they depend on). */
export async function composeUp(call: ComposeCall, services?: readonly string[]): Promise<void> {
  await (services ? upMany([...services], options(call)) : upAll(options(call))).catch(failure('up', call));
}

/** `docker compose stop` of these services (containers and volumes kept). */
export async function composeStop(call: ComposeCall, services: readonly string[]): Promise<void> {
  await stopMany(options(call), ...services).catch(failure('stop', call));
}

/**
 * `docker compose start`: the lab's stopped containers again, in its start order (compose waits
 * for each dependency's condition: the one-shots run again and must succeed, the database healthy).
 */
export async function composeStart(call: ComposeCall): Promise<void> {
  await execCompose('start', [], options(call)).catch(failure('start', call));
}

/** `docker compose down` of the project in `cwd` (the command options say what else goes). */
export async function composeDown(call: ComposeCall): Promise<void> {
  await downAll(options(call)).catch(failure('down', call));
}

/**
 * `docker compose config --hash '*'`: the configuration hash of each service of the files, as
 * compose labels the containers it makes from them (`com.docker.compose.config-hash`). A service
 * recreated by `up --no-deps <selection>` is labelled with the hash of the project reduced to the
 * selection (the others and every `depends_on` on them left out): `selection` computes those, from
 * reduced copies of the files beside them.
 */
let copiesMade = 0;
export async function composeConfigHashes(call: ComposeCall, selection?: readonly string[]): Promise<Record<string, string>> {
  const files = call.files ?? ['docker-compose.yml'];
  const copies = selection ? files.map((_, i) => `.carbon-labs-selection-${process.pid}-${copiesMade++}-${i}.yml`) : [];
  for (const [i, copy] of copies.entries()) {
    const doc = YAML.parse(readFileSync(join(call.cwd, files[i]), 'utf8')) as {
      services?: Record<string, { depends_on?: Record<string, unknown> }>;
    };
    const services = Object.entries(doc.services ?? {})
      .filter(([name]) => selection!.includes(name))
      .map(([name, service]) => {
        const dependsOn = Object.entries(service.depends_on ?? {}).filter(([on]) => selection!.includes(on));
        const { depends_on: _dropped, ...rest } = service;
        return [name, dependsOn.length ? { ...rest, depends_on: Object.fromEntries(dependsOn) } : rest];
      });
    writeFileSync(join(call.cwd, copy), YAML.stringify({ ...doc, services: Object.fromEntries(services) }));
  }
  try {
    const r = await run('docker', ['compose', ...(selection ? copies : files).flatMap((f) => ['-f', f]), 'config', '--hash', '*'], {
      cwd: call.cwd,
      env: call.env,
      timeoutMs: call.seconds * 1000,
    });
    if (r.code !== 0)
      throw new LabError(
        `docker compose config --hash failed in ${call.cwd}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`,
      );
    return Object.fromEntries(
      r.stdout
        .trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/) as [string, string]),
    );
  } finally {
    for (const copy of copies) rmSync(join(call.cwd, copy), { force: true });
  }
}
