import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';
import { PROJECT_ROOT } from '../../generator/paths';
import { sim } from '../../generator/products/sim';
import { Check, CheckResult, DEFAULT_CHECK_OPTIONS, runCheck } from '../../harness/check';
import { buildLab } from '../../generator/patterns';
import { startupBudgetSeconds } from '../../generator/model/start-order';
import {
  appliesTo,
  judgeCatch,
  judgeStart,
  planSelftest,
  SEEDED_FAULTS,
  SeededFault,
  selectFaults,
  selftestStreams,
} from '../../harness/selftest';
import { machineGate } from '../../harness/gate';
import { SharedLab } from '../../harness/shared-lab';
import type { LabTarget, StartedLab } from '../../harness/lab-target';
import { parseTarget } from '../../generator/runtime/swarm';
import { startTestLab } from '../support/labs';
import { describeDocker } from '../support/docker';

interface Caught {
  readonly fault: string;
  readonly description: string;
  readonly check: string;
  readonly product: string;
  readonly pattern: number;
  readonly lab: 'shared' | 'own';
  readonly caught: boolean;
  readonly why: string;
  readonly seconds: number;
}

/**
 * A seeded fault must break the first run of the variant it breaks: one run per failover variant
 * is enough to show that (conformance runs each several times to judge the worst).
 */
const SELFTEST_OPTIONS = { ...DEFAULT_CHECK_OPTIONS, failoverRuns: 1 };

/** `make selftest TARGET=swarm`: the broken labs as swarm stacks (the faults that can exist there). */
const target = parseTarget(process.env.CARBON_LABS_TARGET ?? 'compose');
/**
 * `CARBON_LABS_SELFTEST_FAULTS=a,b`: only those seeded faults; `CARBON_LABS_SELFTEST_PRODUCTS=p`
 * (or `!p`): only those on p (or all but those), reported in a folder of their own. Default: every
 * one that applies.
 */
const products = process.env.CARBON_LABS_SELFTEST_PRODUCTS?.trim();
const chosen = selectFaults(SEEDED_FAULTS, { faults: process.env.CARBON_LABS_SELFTEST_FAULTS, products });
const applicable = chosen.filter((f) => appliesTo(f, target));
/**
 * Broken labs side by side, each a named lab of its own (project, subnets, ports: tests/support/labs.ts),
 * in `CARBON_LABS_SELFTEST_PARALLEL` streams (default one per share of the machine, harness/gate.ts;
 * 1 on a stack: one swarm), each stream one fault after another ({@link selftestStreams}).
 */
const PARALLEL = Number(process.env.CARBON_LABS_SELFTEST_PARALLEL ?? (target === 'swarm' ? 1 : machineGate().shares));
if (!Number.isInteger(PARALLEL) || PARALLEL < 1)
  throw new Error(`CARBON_LABS_SELFTEST_PARALLEL must be a whole number ≥ 1 (got "${process.env.CARBON_LABS_SELFTEST_PARALLEL}")`);
/**
 * How the streams are balanced: a lab's start (a stand-in lab is healthy in about 13 s here) and
 * a seeded fault's turn (5–36 s on a shared lab, 20 s on average, measured alone; a check's
 * expected time says little here, as the self-test runs one failover variant of the five it plans).
 */
const START_COST_MS = 15_000;
const FAULT_COST_MS = 20_000;
/**
 * A test's own time: its lab's start, its check's deadline, the lab's removal, and its turns at the
 * machine gate (a start waits for the checks other legs time meanwhile: a failover check's runs).
 */
const GATE_TURNS_MS = 15 * 60_000;
const timeoutOf = (fault: SeededFault) => {
  const lab = buildLab(fault.pattern, { product: fault.product ?? sim });
  return startupBudgetSeconds(lab) * 1000 + (fault.check?.plan(lab, SELFTEST_OPTIONS).deadlineMs ?? 0) + 120_000 + GATE_TURNS_MS;
};

describeDocker(
  `self-test: every check fails on a lab that breaks the property it checks, for the reason it declares${target === 'swarm' ? ', as swarm stacks' : ''}`,
  () => {
    const caught: Caught[] = [];
    // A broken lab is removed while the next one starts (nothing is timed during a start): each
    // test's removal is awaited here, and one that failed fails the suite.
    const removals: Promise<void>[] = [];

    afterAll(async () => {
      const failed = (await Promise.allSettled(removals)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
      const dir = join(
        PROJECT_ROOT,
        'reports',
        'sim',
        `selftest${target === 'swarm' ? '-swarm' : ''}${products ? `-${products.replace(/^!/, 'not-').replace(/,/g, '+')}` : ''}`,
      );
      mkdirSync(dir, { recursive: true });
      const n = caught.filter((c) => c.caught).length;
      writeFileSync(join(dir, 'results.json'), `${JSON.stringify({ caught: n, seeded: caught.length, faults: caught }, null, 2)}\n`);
      writeFileSync(
        join(dir, 'report.md'),
        [
          `# Self-test${target === 'swarm' ? ' on swarm stacks' : ''}: ${n} of ${caught.length} seeded faults caught for the reason they declare`,
          '',
          '| seeded fault | product | pattern | lab | check that must fail | caught | why | time |',
          '|---|---|---|---|---|---|---|---|',
          ...caught.map(
            (c) =>
              `| ${c.description} | ${c.product} | ${c.pattern} | ${c.lab} | \`${c.check}\` | ${c.caught ? 'yes' : '**NO**'} | ${c.why.replace(/\|/g, '/').slice(0, 300)} | ${c.seconds} s |`,
          ),
        ].join('\n') + '\n',
      );
      process.stdout.write(`  self-test: ${n} of ${caught.length} seeded faults caught\n`);
      if (failed) throw failed.reason;
    });

    for (const fault of chosen.filter((f) => !appliesTo(f, target)))
      test.skip(`${fault.id} (does not apply to a ${target} lab)`, () => undefined);

    // Faults of one product and pattern whose changes stay inside services take one lab in turn
    // (harness/selftest.ts planSelftest): a test waits for the one before it in its group, and the
    // group's lab goes when its last fault was judged. The others start a lab of their own.
    const plan = planSelftest(applicable, target);
    const groupOf = new Map(plan.shared.flatMap((group) => group.map((f) => [f.id, group] as const)));
    const sharedLabs = new Map<readonly SeededFault[], { lab?: SharedLab; turn: Promise<unknown>; left: number }>(
      plan.shared.map((g) => [g, { turn: Promise.resolve(), left: g.length }]),
    );
    const whyAlone = new Map(plan.alone.map((a) => [a.fault.id, a.why]));
    const costOf = (faults: readonly SeededFault[]) => START_COST_MS + faults.length * FAULT_COST_MS;
    const streams = selftestStreams(plan, PARALLEL, costOf);
    const order = streams.flat();
    // Each fault waits for the one before it in its stream (every test is started at once: jest.config.js).
    const after = new Map<string, Promise<unknown>>();
    const ended = new Map<string, () => void>();
    for (const stream of streams) {
      let previous: Promise<unknown> = Promise.resolve();
      for (const fault of stream) {
        after.set(fault.id, previous);
        previous = new Promise<void>((resolve) => ended.set(fault.id, resolve));
      }
    }
    process.stdout.write(
      `  self-test: ${order.length} faults in ${streams.length} stream${streams.length === 1 ? '' : 's'} side by side: ${streams.map((st) => st.map((f) => f.id).join(', ')).join(' | ')}\n`,
    );

    /** The lab a fault's check runs on: its group's shared lab brought to its state, or one of its own. */
    async function labFor(fault: SeededFault, log: (line: string) => void): Promise<{ lab: LabTarget; done: () => void }> {
      const group = groupOf.get(fault.id);
      const remove = (started: StartedLab) => {
        const removal = started.down();
        removal.catch(() => undefined); // judged in afterAll
        removals.push(removal);
      };
      if (!group) {
        log(`a lab of its own: ${whyAlone.get(fault.id)}`);
        const started = await startTestLab(fault.pattern, { product: fault.product ?? sim }, { log, target, ...fault.options });
        return { lab: started, done: () => remove(started) };
      }
      const shared = sharedLabs.get(group)!;
      const previous = shared.turn;
      let release!: () => void;
      shared.turn = new Promise<void>((resolve) => {
        release = resolve;
      });
      await previous;
      const done = () => {
        shared.left -= 1;
        if (shared.left === 0 && shared.lab) remove(shared.lab.started);
        release();
      };
      try {
        if (shared.lab) return { lab: await shared.lab.become(fault.options.faults ?? [], log), done };
        const started = await startTestLab(fault.pattern, { product: fault.product ?? sim }, { log, target, ...fault.options });
        shared.lab = new SharedLab(started, buildLab(fault.pattern, { product: fault.product ?? sim, named: started.lab.named }));
        log(`a lab shared by ${group.length} faults: ${group.map((f) => f.id).join(', ')}`);
        return { lab: started, done };
      } catch (err) {
        done();
        throw err;
      }
    }

    async function judgeCheck(fault: SeededFault, check: Check, log: (line: string) => void) {
      let result: CheckResult;
      let symptom: boolean | undefined;
      const { lab, done } = await labFor(fault, log);
      try {
        result = await runCheck(check, lab, log, { options: SELFTEST_OPTIONS });
        symptom = await fault.symptom?.seen(lab);
      } finally {
        done();
      }
      return judgeCatch(fault, result, symptom);
    }

    /** A lab that must never become healthy: its start must fail, saying why, before its budget. */
    async function judgeStartOf(fault: SeededFault, log: (line: string) => void) {
      const error = await startTestLab(fault.pattern, { product: fault.product ?? sim }, { log, target, ...fault.options }).then(
        async (lab) => {
          await lab.down();
          return undefined;
        },
        (err: Error) => err,
      );
      return judgeStart(fault, error);
    }

    test.concurrent.each(order.map((f) => [f.id, f] as [string, SeededFault]))(
      '%s is caught',
      async (_, fault) => {
        const log = (line: string) => process.stdout.write(`  self-test [${fault.id}]: ${line}\n`);
        await after.get(fault.id);
        const started = Date.now();
        let judged: { caught: boolean; why: string };
        try {
          judged = fault.check ? await judgeCheck(fault, fault.check, log) : await judgeStartOf(fault, log);
        } finally {
          ended.get(fault.id)!();
        }
        const check = fault.check?.id ?? "the lab's start";
        caught.push({
          fault: fault.id,
          description: fault.description,
          check,
          product: (fault.product ?? sim).id,
          pattern: fault.pattern,
          lab: groupOf.has(fault.id) ? 'shared' : 'own',
          caught: judged.caught,
          why: judged.why,
          seconds: Math.round((Date.now() - started) / 1000),
        });
        expect({ fault: fault.id, check, caught: judged.caught, why: judged.why }).toEqual({
          fault: fault.id,
          check,
          caught: true,
          why: judged.why,
        });
      },
      Math.max(60_000, ...streams.map((st) => st.reduce((sum, f) => sum + timeoutOf(f), 0))),
    );
  },
);
