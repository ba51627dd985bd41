import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { PROJECT_ROOT } from '../../generator/paths';
import { sim } from '../../generator/products/sim';
import { CheckResult, DEFAULT_CHECK_OPTIONS, runCheck } from '../../harness/check';

/**
 * A seeded fault must break the first run of the variant it breaks: one run per failover variant
 * is enough to show that (conformance runs each several times to judge the worst).
 */
const SELFTEST_OPTIONS = { ...DEFAULT_CHECK_OPTIONS, failoverRuns: 1 };
import { buildLab } from '../../generator/patterns';
import { startLab } from '../../harness/lab-target';
import { appliesTo, SEEDED_FAULTS, SeededFault } from '../../harness/selftest';
import { parseTarget } from '../../generator/runtime/swarm';
import { describeDocker } from '../support/docker';

interface Caught { readonly fault: string; readonly description: string; readonly check: string; readonly product: string; readonly pattern: number; readonly caught: boolean; readonly reason?: string }

const log = (line: string) => process.stdout.write(`  self-test: ${line}\n`);
/** `make selftest TARGET=swarm`: the broken labs as swarm stacks (the faults that can exist there). */
const target = parseTarget(process.env.CARBON_LABS_TARGET ?? 'compose');
/** `CARBON_LABS_SELFTEST_FAULTS=a,b`: only those seeded faults (default every one that applies). */
const only = process.env.CARBON_LABS_SELFTEST_FAULTS?.split(',').map((f) => f.trim()).filter(Boolean);
const unknown = only?.filter((id) => !SEEDED_FAULTS.some((f) => f.id === id)) ?? [];
if (unknown.length) throw new Error(`CARBON_LABS_SELFTEST_FAULTS: no seeded fault ${unknown.join(', ')}; they are ${SEEDED_FAULTS.map((f) => f.id).join(', ')}`);
const chosen = SEEDED_FAULTS.filter((f) => !only || only.includes(f.id));

describeDocker(`self-test: every check fails on a lab that breaks the property it checks${target === 'swarm' ? ', as swarm stacks' : ''}`, () => {
  const caught: Caught[] = [];
  afterAll(() => {
    const dir = join(PROJECT_ROOT, 'reports', 'sim', `selftest${target === 'swarm' ? '-swarm' : ''}`);
    mkdirSync(dir, { recursive: true });
    const n = caught.filter((c) => c.caught).length;
    writeFileSync(join(dir, 'results.json'), `${JSON.stringify({ caught: n, seeded: caught.length, faults: caught }, null, 2)}\n`);
    writeFileSync(join(dir, 'report.md'), [
      `# Self-test${target === 'swarm' ? ' on swarm stacks' : ''}: ${n} of ${caught.length} seeded faults caught`, '',
      '| seeded fault | product | pattern | check that must fail | caught | why it failed |', '|---|---|---|---|---|---|',
      ...caught.map((c) => `| ${c.description} | ${c.product} | ${c.pattern} | \`${c.check}\` | ${c.caught ? 'yes' : '**NO**'} | ${(c.reason ?? '').replace(/\|/g, '/').slice(0, 200)} |`),
    ].join('\n') + '\n');
    log(`${n} of ${caught.length} seeded faults caught`);
  });

  for (const fault of chosen.filter((f) => !appliesTo(f, target))) test.skip(`${fault.id} (does not apply to a ${target} lab)`, () => undefined);

  test.each(chosen.filter((f) => appliesTo(f, target)).map((f) => [f.id, f] as [string, SeededFault]))('%s is caught', async (_, fault) => {
    let result: CheckResult;
    let symptom: boolean | undefined;
    {
      await using lab = await startLab(buildLab(fault.pattern, { product: fault.product ?? sim }), { log, target, ...fault.options });
      result = await runCheck(fault.check, lab, log, { options: SELFTEST_OPTIONS });
      symptom = await fault.symptom?.seen(lab);
    }
    const reason = `${fault.symptom ? `${fault.symptom.what}: ${symptom ? 'seen' : 'NOT seen'}. ` : ''}${result.reason ?? ''}`;
    caught.push({ fault: fault.id, description: fault.description, check: fault.check.id, product: (fault.product ?? sim).id, pattern: fault.pattern, caught: result.status === 'failed' && symptom !== false, reason });
    expect({ fault: fault.id, check: fault.check.id, status: result.status, symptom }).toEqual({ fault: fault.id, check: fault.check.id, status: 'failed', symptom: fault.symptom ? true : undefined });
  });
});
