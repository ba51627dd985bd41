#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { join, resolve } from 'path';
import { LabError } from '../generator/errors';
import { labInDir } from '../generator/patterns';
import { parseTarget } from '../generator/runtime/swarm';
import type { Check, CheckOptions } from './check';
import { DEFAULT_CHECK_OPTIONS } from './check';
import { CHECKS } from './checks';
import { parseFailoverRuns } from './checks/managers-fail-over';
import { checkLab } from './conformance';
import { parseFaults } from './faults';
import { writeReports } from './report/write';

/**
 * The harness's own entry: `carbon-labs conformance` hands it a lab as its folder (the CLI lives
 * below the harness and never imports it). Progress goes to stderr, the verdict is the exit code:
 * 0 every check passed or was skipped, 1 a check failed or was not run, 2 a usage error,
 * 130 interrupted (the report then holds what ran, marked incomplete).
 */
const log = (line: string) => process.stderr.write(`carbon-labs: ${line}\n`);

/** `--check ID` (repeatable): only those checks, in the usual order; an unknown id is refused. */
export function chooseChecks(ids: readonly string[]): readonly Check[] {
  if (!ids.length) return CHECKS;
  const unknown = ids.filter((id) => !CHECKS.some((c) => c.id === id));
  if (unknown.length) throw new LabError(`no check ${unknown.map((u) => `"${u}"`).join(', ')}; the checks are ${CHECKS.map((c) => c.id).join(', ')}`, `make conformance CHECK=${CHECKS[0].id}`);
  return CHECKS.filter((c) => ids.includes(c.id));
}

/** The checks' options as the environment gives them (`CARBON_LABS_FAILOVER_RUNS`, `CARBON_LABS_FAILOVER_VARIANTS`), read once here. */
export function checkOptionsFrom(env: NodeJS.ProcessEnv): CheckOptions {
  return {
    failoverRuns: env.CARBON_LABS_FAILOVER_RUNS ? parseFailoverRuns(env.CARBON_LABS_FAILOVER_RUNS) : DEFAULT_CHECK_OPTIONS.failoverRuns,
    failoverVariants: parseFaults(env.CARBON_LABS_FAILOVER_VARIANTS),
  };
}

function program(): Command {
  const cmd = new Command('carbon-labs-harness').exitOverride().allowExcessArguments(false);
  cmd.command('conformance')
    .description('run the checks on the lab of a folder (attached when it runs, else started from it), write the reports')
    .requiredOption('--dir <dir>', 'the lab folder')
    .requiredOption('--reports <dir>', 'where results.json, junit.xml, report.md and report.html go')
    .option('--target <target>', 'where to start the lab when it is not running: compose or swarm', 'compose')
    .option('--check <id>', 'only this check (repeatable)', (id: string, ids: string[]) => [...ids, id], [] as string[])
    .action(async (o: { dir: string; reports: string; target: string; check: string[] }) => {
      const lab = labInDir(resolve(o.dir));
      const checks = chooseChecks(o.check);
      const controller = new AbortController();
      const interrupt = () => { log('interrupted: stopping the running check, then restoring the lab and writing what ran'); controller.abort(new Error('interrupted')); };
      process.once('SIGINT', interrupt);
      process.once('SIGTERM', interrupt);
      const reports = resolve(o.reports);
      const run = await checkLab({ lab, target: parseTarget(o.target) }, {
        checks, options: checkOptionsFrom(process.env), log, signal: controller.signal,
        onProgress: (partial) => writeReports(partial, reports),
      });
      log(`${lab.project}: ${run.verdict}${run.complete ? '' : ' (incomplete)'} in ${(run.durationMs / 1000).toFixed(0)} s (expected ${(run.expectedMs / 1000).toFixed(0)} s; boots and fault windows ${(run.floorMs / 1000).toFixed(0)} s, ${(run.durationMs / Math.max(1, run.floorMs)).toFixed(2)} × that); reports in ${join(reports, 'report.md')}, report.html, results.json, junit.xml`);
      process.exitCode = controller.signal.aborted ? 130 : run.verdict === 'passed' ? 0 : 1;
    });
  return cmd;
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync(argv as string[], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof LabError) {
      process.stderr.write(`carbon-labs: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

if (require.main === module) {
  // The run ends with its verdict: nothing it started may keep the process (a probe's socket, a timer).
  void main(process.argv.slice(2)).then((code) => process.exit(code), (err: Error) => {
    process.stderr.write(`carbon-labs: ${err.stack ?? err}\n`);
    process.exit(2);
  });
}
