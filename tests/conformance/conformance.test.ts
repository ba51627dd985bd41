import { join } from 'path';
import type { PatternId } from '../../generator/model/lab';
import { PROJECT_ROOT } from '../../generator/paths';
import { buildLab, parsePattern } from '../../generator/patterns';
import { resolveProduct } from '../../generator/products';
import { CHECKS } from '../../harness/checks';
import { ConformanceRun, runConformance } from '../../harness/conformance';
import { writeReports } from '../../harness/report/write';
import { describeDocker } from '../support/docker';
import { parseTarget } from '../../generator/runtime/swarm';

/**
 * The conformance verdict as Jest tests: one test per check, per pattern. `make conformance`
 * sets CARBON_LABS_PATTERN and CARBON_LABS_PRODUCT; `make test` runs all patterns on the stand-in.
 */
const product = resolveProduct(process.env.CARBON_LABS_PRODUCT ?? 'sim');
const patterns: PatternId[] = process.env.CARBON_LABS_PATTERN ? [parsePattern(process.env.CARBON_LABS_PATTERN)] : [1, 2, 3];
/** `make conformance NAME=a`: the named lab (its slot from its manifest, passed on by the CLI). */
const named = process.env.CARBON_LABS_NAME ? { name: process.env.CARBON_LABS_NAME, slot: Number(process.env.CARBON_LABS_SLOT) } : undefined;
/** `make conformance WORKERS=… MANAGERS=…` (or a lab's recorded size, passed on by the CLI). */
const scale = {
  ...(process.env.CARBON_LABS_WORKERS ? { workers: Number(process.env.CARBON_LABS_WORKERS) } : {}),
  ...(process.env.CARBON_LABS_MANAGERS ? { managers: Number(process.env.CARBON_LABS_MANAGERS) } : {}),
};
/** `make conformance TARGET=swarm`: start the lab as a swarm stack when it is not running. */
const target = parseTarget(process.env.CARBON_LABS_TARGET ?? 'compose');
const log = (line: string) => process.stdout.write(`  conformance: ${line}\n`);

describeDocker.each(patterns)(`conformance of ${product.id}${target === 'swarm' ? ' as a swarm stack' : ''}, pattern %i`, (pattern) => {
  let run: ConformanceRun;

  beforeAll(async () => {
    run = await runConformance({ pattern, product, log, named, scale, target });
    const dir = process.env.CARBON_LABS_REPORTS ?? join(PROJECT_ROOT, 'reports', product.id, `pattern-${pattern}${target === 'swarm' ? '-swarm' : ''}`);
    await writeReports(run, dir);
    log(`pattern ${pattern}: ${run.verdict}; reports in ${dir}`);
  });

  // A check that does not apply to this lab is a skipped test (and "skipped" in the report), never a pass.
  const lab = buildLab(pattern, { product, named, ...scale });
  for (const check of CHECKS) {
    const skip = check.skipReason?.(lab);
    if (skip) test.skip(`${check.id} (does not apply: ${skip})`, () => undefined);
  }

  test.each(CHECKS.filter((c) => !c.skipReason?.(lab)).map((c) => c.id))('%s', (id) => {
    const result = run.checks.find((c) => c.id === id)!;
    if (result.status === 'failed') {
      throw new Error(`${id} failed: ${result.reason}\nfigures: ${JSON.stringify(result.figures)}\nevidence:\n${result.evidence.slice(-12).join('\n')}`);
    }
    expect(result.status).toBe('passed');
  });
});
