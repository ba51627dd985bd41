import type { Command } from 'commander';
import { existsSync } from 'fs';
import { join, resolve } from 'path';
import { PROJECT_ROOT, RUNS } from '../paths';
import { LabError } from '../errors';
import { makeArgs } from '../model/lab';
import { runAttached } from '../runtime/exec';
import { LabOptions, reportsOf, resolveLab } from './lab-ref';
import { labCommand, targetOption } from './options';

/** `carbon-labs results`. */
export function registerResults(program: Command): void {
  targetOption(
    labCommand(
      program,
      'results',
      "the lab's last conformance run: each check's verdict and headline, then every figure beside the run before (the last 10 runs are kept under runs/ in its report folder)",
    ),
    'compose or swarm: the runs of the lab as a compose lab (the default) or as a stack',
  )
    .option('--compare <prev>', 'compare with this run instead: a folder under runs/, or a results.json')
    .action(async (o: LabOptions & { compare?: string }) => {
      const { lab } = await resolveLab(o);
      const reports = reportsOf(lab, o.target ?? 'compose');
      if (!existsSync(join(reports, 'results.json')))
        throw new LabError(
          `no conformance run of ${lab.project} yet (no ${join(reports, 'results.json')})`,
          `make conformance ${makeArgs(lab)}`,
        );
      // --compare as given, or within the lab's report folder (runs/<time>, or <time> alone).
      const compare =
        o.compare && [resolve(o.compare), join(reports, o.compare), join(reports, RUNS, o.compare)].find((p) => existsSync(p));
      if (o.compare && !compare)
        throw new LabError(
          `--compare ${o.compare}: no such run (looked as given, in ${reports} and in its runs/)`,
          `ls ${join(reports, RUNS)}`,
        );
      const r = runAttached(
        process.execPath,
        [resolve(PROJECT_ROOT, 'dist', 'harness', 'main.js'), 'results', '--reports', reports, ...(compare ? ['--compare', compare] : [])],
        60_000,
      );
      if (r.error) throw new LabError(`the harness could not run: ${r.error.message}`, 'make conformance (it builds dist/)');
      if (r.status !== 0) process.exitCode = r.status ?? 1;
    });
}
