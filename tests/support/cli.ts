import { spawnSync } from 'child_process';
import type { SpawnSyncOptions } from 'child_process';
import { join } from 'path';
import { VIA_MAKE } from '../../generator/hints';
import { PROJECT_ROOT } from '../../generator/paths';

/** The built CLI, as `bin` and make run it. */
export const CLI = join(PROJECT_ROOT, 'dist', 'generator', 'cli.js');

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a CLI call as make makes it (its fixes in make's words), or as a user's shell (`direct`: in the CLI's). */
export function cliEnv(direct: boolean, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return direct ? Object.fromEntries(Object.entries(base).filter(([k]) => k !== VIA_MAKE)) : { ...base, [VIA_MAKE]: '1' };
}

/** The built CLI in a process of its own: where the exit code of a real process, or its environment, is the point. */
export function spawnCli(args: readonly string[], options: SpawnSyncOptions & { direct?: boolean } = {}): CliRun {
  const { direct = false, env, ...rest } = options;
  const r = spawnSync('node', [CLI, ...args], { encoding: 'utf8', timeout: 120_000, ...rest, env: env ?? cliEnv(direct) });
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/**
 * The CLI's `main` in this process, in `cwd`, its stdout and stderr captured: what a process
 * would print and its exit code, without starting Node and loading the CLI for every call (36
 * calls took 45 s as processes). An error `main` does not turn into a line is a crash, as a
 * process would end: exit 1 and its stack on stderr.
 */
export async function runCli(args: readonly string[], cwd: string, direct = false): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = {
    cwd: process.cwd(),
    exitCode: process.exitCode,
    env: process.env,
    stdout: process.stdout.write.bind(process.stdout),
    stderr: process.stderr.write.bind(process.stderr),
  };
  const capture = (into: string[]) => ((chunk: string | Uint8Array) => (into.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stdout.write = capture(out);
  process.stderr.write = capture(err);
  process.env = cliEnv(direct, saved.env);
  process.exitCode = undefined;
  process.chdir(cwd);
  try {
    const { main } = await import('../../generator/cli');
    const code = await main(args).catch((e: Error) => {
      err.push(`${e.stack ?? e.message}\n`);
      return 1;
    });
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.chdir(saved.cwd);
    process.env = saved.env;
    process.exitCode = saved.exitCode;
    process.stdout.write = saved.stdout;
    process.stderr.write = saved.stderr;
  }
}
