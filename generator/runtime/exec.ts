import { spawn, spawnSync } from 'child_process';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The command was killed at its deadline (its code is then 124, as coreutils' timeout says). */
  readonly timedOut?: boolean;
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly inherit?: boolean;
  /** Every command has a deadline: past it the command is killed and the result says so. */
  readonly timeoutMs: number;
}

/**
 * Runs a command without a shell; never throws on a non-zero exit (callers decide). The one place
 * a child process is spawned (an ESLint rule says so), and never without a deadline.
 */
export function run(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', options.inherit ? 'inherit' : 'pipe', options.inherit ? 'inherit' : 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.on('data', (d) => {
      stdout += d;
    });
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + String(err) });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut)
        resolve({
          code: 124,
          stdout,
          stderr: `${stderr}${command} ${args.slice(0, 4).join(' ')}… did not end within ${(options.timeoutMs / 1000).toFixed(0)} s and was killed`,
          timedOut,
        });
      else resolve({ code: code ?? 1, stdout, stderr });
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/**
 * Runs a command attached to this terminal (the user's own `logs -f` or `exec sh`): it ends when
 * the user ends it, so its deadline is the caller's choice (`undefined` only for those two).
 * Its exit code, or undefined when it could not run (with the reason).
 */
export function runAttached(
  command: string,
  args: readonly string[],
  timeoutMs: number | undefined,
): { status: number | null; error?: Error } {
  const r = spawnSync(command, args, { stdio: 'inherit', ...(timeoutMs ? { timeout: timeoutMs, killSignal: 'SIGKILL' } : {}) });
  return { status: r.status, ...(r.error ? { error: r.error } : {}) };
}
