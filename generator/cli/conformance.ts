import type { Command } from 'commander';
import { existsSync } from 'fs';
import { join, resolve } from 'path';
import { PROJECT_ROOT } from '../paths';
import { ChecksFailed, LabError } from '../errors';
import type { LabSpec } from '../model/lab';
import { FAILURE_EXPORT } from '../runtime/export';
import { labDirOf } from '../runtime/lab';
import { requireDocker } from '../runtime/docker';
import { runAttached } from '../runtime/exec';
import { runningDeployment } from '../runtime/deployment';
import type { Target } from '../model/lab';
import { AUTO_PRODUCT, LabOptions, reportsOf, resolveLab, writeLab } from './lab-ref';
import { commaList, labCommand, parseParallel, PatternList, targetOption } from './options';

/** `carbon-labs conformance`. */
export function registerConformance(program: Command): void {
  targetOption(
    labCommand(
      program,
      'conformance',
      'run the conformance checks on the lab (attaches to a running one, else starts it), write reports/<product>/pattern-<n>/; --pattern all (or 2,3) and --product a,b check several labs side by side',
      'several',
    ),
    'compose or swarm: where to start the lab when it is not running (a running one is checked where it runs)',
  )
    .option(
      '--check <id>',
      'only this check (repeatable, or comma-separated): e.g. managers-fail-over',
      (id: string, ids: string[]) => [...ids, ...commaList(id)],
      [] as string[],
    )
    .option(
      '--parallel <n>',
      'with several labs: how many run at once (default: two per core of the machine; starts and checks take a core each)',
      parseParallel,
    )
    .action(async (o: Omit<LabOptions, 'pattern'> & { pattern?: PatternList; check: string[]; parallel?: number }) => {
      const target: Target = o.target ?? 'compose';
      await requireDocker();
      const products = commaList(o.product ?? AUTO_PRODUCT);
      // No --pattern: one lab, which a named lab's manifest names (resolveLab says what is missing).
      const patterns = o.pattern?.ids ?? [undefined];
      const several = products.length > 1 || patterns.length > 1;
      if (several && o.out)
        throw new LabError(
          "--out names one lab's folder; --pattern all (or 2,3) and --product a,b check several labs, each in its own",
          'leave --out out, or check one lab: make conformance PATTERN=3',
        );
      if (several && o.name)
        throw new LabError(
          '--name checks one named lab; --pattern all (or 2,3) and --product a,b check unnamed labs side by side',
          'make conformance NAME=a, or make conformance PATTERN=all PRODUCT=sim',
        );
      const labs: { lab: LabSpec; dir: string; where: Target }[] = [];
      for (const product of products) {
        for (const pattern of patterns) {
          // A named lab not made yet is made as asked (as `make lab NAME=` would), then started below.
          const found = await resolveLab({ ...o, product, pattern }, { createNamed: true });
          const running = (await runningDeployment(found.lab))?.target;
          // The harness gets each lab as its folder: the running one's (from compose's labels), or this
          // one written as asked (a lab that is not running is started from it, as a fresh copy).
          if (!running) writeLab(found, false, o.out);
          labs.push({ lab: found.lab, dir: running ? await labDirOf(found.lab.project) : found.dir, where: running ?? target });
        }
      }
      const summary = resolve('reports', 'summary', `${products.join('+')}-${o.pattern?.all ? 'all' : `pattern-${patterns.join('+')}`}`);
      const harness = resolve(PROJECT_ROOT, 'dist', 'harness', 'main.js');
      const args = [
        harness,
        'conformance',
        '--target',
        target,
        ...o.check.flatMap((c) => ['--check', c]),
        ...(o.parallel ? ['--parallel', String(o.parallel)] : []),
        ...labs.flatMap((l) => [
          '--dir',
          l.dir,
          '--reports',
          reportsOf(l.lab, l.where),
          '--label',
          `${l.lab.product.id} p${l.lab.pattern}`,
        ]),
        ...(several ? ['--summary', summary] : []),
      ];
      // Bounded by the checks' own deadlines (the harness says them first).
      const r = runAttached(process.execPath, args, undefined);
      if (r.error) throw new LabError(`the conformance harness could not run: ${r.error.message}`, 'make conformance (it builds dist/)');
      if (r.status === 2) throw new LabError('the conformance harness refused the run (see above)');
      const where = several ? join(summary, 'summary.md') : join(reportsOf(labs[0].lab, labs[0].where), 'report.md');
      // A failed lab's logs and configuration, kept beside its report before the lab went.
      const bundles = labs.map((l) => join(reportsOf(l.lab, l.where), FAILURE_EXPORT)).filter((f) => existsSync(f));
      if (r.status !== 0)
        throw new ChecksFailed(
          `conformance of ${labs.map((l) => l.lab.project).join(', ')} ${r.status === 130 ? 'was interrupted' : 'FAILED'} (see ${where}${bundles.length ? `; every node's log and configuration: ${bundles.join(', ')}` : ''})`,
        );
    });
}
