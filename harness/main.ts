#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { join, resolve } from 'path';
import { LabError } from '../generator/errors';
import { labInDir } from '../generator/synth/lab-folder';
import { parseTarget } from '../generator/runtime/swarm';
import type { Check, CheckOptions } from './check';
import { DEFAULT_CHECK_OPTIONS } from './check';
import { CHECKS } from './checks';
import { parseFailoverRuns } from './checks/managers-fail-over';
import { checkLab, processDeadlineMs } from './conformance';
import { graceMs, INTERRUPTED, watchdog } from './deadline';
import { parseFaults } from './faults';
import { headline, whatFailed, writeReports } from './report/write';
import { archiveRun, compareRuns, comparisonText, KEPT_RUNS, keptRuns, readRun, RUNS } from './report/history';
import { table } from '../generator/table';
import { runMatrix, writeSummary } from './matrix';
import { machineGate, waitedForMachineMs } from './gate';

/**
 * The harness's own entry: `carbon-labs conformance` hands it a lab as its folder (the CLI lives
 * below the harness and never imports it). Progress goes to stderr, the verdict is the exit code:
 * 0 every check passed or was skipped, 1 a check failed or was not run (the run's own deadline
 * too: harness/deadline.ts), 2 a usage error, 130 interrupted (the report then holds what ran,
 * marked incomplete).
 */
const log = (line: string) => process.stderr.write(`carbon-labs: ${line}\n`);

/** `--check ID` (repeatable): only those checks, in the usual order; an unknown id is refused. */
export function chooseChecks(ids: readonly string[]): readonly Check[] {
  if (!ids.length) return CHECKS;
  const unknown = ids.filter((id) => !CHECKS.some((c) => c.id === id));
  if (unknown.length)
    throw new LabError(
      `no check ${unknown.map((u) => `"${u}"`).join(', ')}; the checks are ${CHECKS.map((c) => c.id).join(', ')}`,
      `make conformance CHECK=${CHECKS[0].id}`,
    );
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
  const many = (value: string, all: string[]) => [...all, value];
  cmd
    .command('conformance')
    .description(
      'run the checks on the lab of a folder (attached when it runs, else started from it), write the reports; several labs side by side',
    )
    .requiredOption('--dir <dir>', 'a lab folder (repeatable: the labs are checked side by side)', many, [] as string[])
    .requiredOption('--reports <dir>', 'where results.json, junit.xml, report.md and report.html go (one per --dir)', many, [] as string[])
    .option('--label <label>', "a lab's name in progress lines and the summary (one per --dir)", many, [] as string[])
    .option('--summary <dir>', 'several labs: where summary.md, summary.html and summary.json go')
    .option('--parallel <n>', 'several labs: how many at once (default: two per core of the machine; starts and checks take a core each)')
    .option('--target <target>', 'where to start a lab when it is not running: compose or swarm', 'compose')
    .option('--check <id>', 'only this check (repeatable)', many, [] as string[])
    .action(
      async (o: {
        dir: string[];
        reports: string[];
        label: string[];
        summary?: string;
        parallel?: string;
        target: string;
        check: string[];
      }) => {
        if (o.dir.length !== o.reports.length)
          throw new LabError(`--dir and --reports come in pairs (got ${o.dir.length} and ${o.reports.length})`);
        const checks = chooseChecks(o.check);
        const options = checkOptionsFrom(process.env);
        const labs = o.dir.map((dir) => labInDir(resolve(dir)));
        const controller = new AbortController();
        const interrupt = () => {
          log('interrupted: stopping the running check, then restoring the lab and writing what ran');
          controller.abort(new Error(INTERRUPTED));
        };
        process.once('SIGINT', interrupt);
        process.once('SIGTERM', interrupt);
        // The process's own bound, whatever hangs: the labs' worst, one after another.
        const bound = processDeadlineMs(labs, checks, options);
        log(
          `this run ends within ${(bound / 60_000).toFixed(0)} min of its own time at most (its labs' starts, checks and removals, one after another; waits for the machine not counted)`,
        );
        using deadline = watchdog(controller, bound, graceMs(labs), log, { waited: waitedForMachineMs });
        const stoppedAt = (failed: boolean) => (deadline.fired ? 1 : controller.signal.aborted ? 130 : failed ? 1 : 0);
        if (o.dir.length > 1) {
          const entries = o.dir.map((dir, i) => ({
            lab: labs[i],
            target: parseTarget(o.target),
            reports: resolve(o.reports[i]),
            label: o.label[i] ?? dir,
          }));
          // Starts and checks take the gate's shares (one per core); a lab alive between them costs
          // about 0.2 of a core (Docker's health probes), so at most two labs per share are alive:
          // measured here, patterns 1-3 at once took 205 s (two at a time, with pattern 3 already
          // running, 248 s).
          const parallel = o.parallel === undefined ? Math.min(entries.length, 2 * machineGate().shares) : Number(o.parallel);
          if (!Number.isInteger(parallel) || parallel < 1)
            throw new LabError(`--parallel must be a whole number ≥ 1 (got "${o.parallel}")`);
          log(
            `${entries.length} labs side by side (${parallel} at once): ${entries.map((e) => e.label).join(', ')}; each lab's lines in <its reports>/run.log`,
          );
          const matrix = await runMatrix(entries, {
            checks,
            options,
            signal: controller.signal,
            parallel,
            console: log,
          });
          const summary = resolve(o.summary ?? join(o.reports[0], '..', 'summary'));
          writeSummary(matrix, summary);
          log(
            `${matrix.verdict} in ${(matrix.durationMs / 1000).toFixed(0)} s: ${matrix.runs.map((r) => `${r.label} ${r.verdict}`).join(', ')}${Object.keys(matrix.errors).length ? `; not checked: ${Object.keys(matrix.errors).join(', ')}` : ''}; summary in ${join(summary, 'summary.md')}`,
          );
          for (const r of matrix.runs) for (const line of whatFailed(r)) log(`[${r.label}] ${line}`);
          process.exitCode = stoppedAt(matrix.verdict !== 'passed');
          return;
        }
        const lab = labs[0];
        const reports = resolve(o.reports[0]);
        const run = await checkLab(
          { lab, target: parseTarget(o.target) },
          {
            checks,
            options,
            log,
            signal: controller.signal,
            exportOnFailure: reports,
            onProgress: (partial) => writeReports(partial, reports),
          },
        );
        if (run.complete)
          log(`kept as ${archiveRun(run, reports)} (the last ${KEPT_RUNS} runs are kept; carbon-labs results compares the last two)`);
        log(
          `${lab.project}: ${run.verdict}${run.complete ? '' : ' (incomplete)'} in ${(run.durationMs / 1000).toFixed(0)} s (expected ${(run.expectedMs / 1000).toFixed(0)} s; boots and fault windows ${(run.floorMs / 1000).toFixed(0)} s${run.floorMs > 0 ? `, ${(run.durationMs / run.floorMs).toFixed(2)} × that` : ''}); reports in ${join(reports, 'report.md')}, report.html, results.json, junit.xml`,
        );
        for (const line of whatFailed(run)) log(line);
        process.exitCode = stoppedAt(run.verdict !== 'passed');
      },
    );
  cmd
    .command('results')
    .description("a lab's last run: each check's verdict and headline, and each figure beside the run before (or --compare PREV)")
    .requiredOption('--reports <dir>', "the lab's report folder")
    .option('--compare <prev>', 'the run to compare with: a folder under runs/, or a results.json (default: the run before the last)')
    .action((o: { reports: string; compare?: string }) => {
      const now = readRun(o.reports);
      print(
        [
          `${now.project} (${now.product} pattern ${now.pattern}): ${now.verdict}${now.complete ? '' : ' (incomplete)'}, started ${now.startedAt}, ${(now.durationMs / 1000).toFixed(0)} s`,
          table([['CHECK', 'VERDICT', 'HEADLINE'], ...now.checks.map((c) => [c.id, c.status, headline(c)])]),
        ].join('\n'),
      );
      const kept = keptRuns(o.reports).filter((d) => readRun(d).startedAt !== now.startedAt);
      const before = o.compare ?? kept[kept.length - 1];
      if (!before) {
        print(`\nno earlier run of this lab is kept in ${join(o.reports, RUNS)} to compare with`);
        return;
      }
      print(`\n${comparisonText(compareRuns(readRun(before), now))}`);
    });
  return cmd;
}

const print = (text: string) => process.stdout.write(`${text}\n`);

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
  void main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`carbon-labs: ${err.stack ?? err}\n`);
      process.exit(2);
    },
  );
}
